import { createRequire } from 'node:module';
import { z } from 'zod';

/** The package version (package.json sits two levels above both src/core and dist/core). */
export const version: string = z
  .object({ version: z.string() })
  .parse(createRequire(import.meta.url)('../../package.json')).version;
