import { createRequire } from 'node:module';

/** The package version (package.json sits two levels above both src/core and dist/core). */
export const version: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
