/** Versions of the libraries that shape a model's numbers, for training receipts. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';

const require = createRequire(import.meta.url);

const packageJson = z.object({ name: z.string().optional(), version: z.string().optional() });

/** The installed version of `name`, found by walking up from its entry point to its package.json. */
function versionOf(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = packageJson.safeParse(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
      if (pkg.success && pkg.data.name === name && pkg.data.version) return pkg.data.version;
    } catch {
      // no package.json here
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}

export function engineLibraryVersions(): Record<string, string> {
  return {
    '@jax-js/jax': versionOf('@jax-js/jax'),
    'node-llama-cpp': versionOf('node-llama-cpp'),
    node: process.versions.node,
  };
}
