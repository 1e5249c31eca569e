import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDependencies, importsOf } from './check-deps.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'deps-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('dependency check', () => {
  it('finds static, re-export, type-only and dynamic imports', () => {
    const src = `import a from './a.js';\nimport type { B } from "../b.js";\nexport { c } from './c.js';\nconst d = await import('./d.js');\nimport './e.js';`;
    expect(importsOf(src)).toEqual(['./a.js', '../b.js', './c.js', './d.js', './e.js']);
  });

  it('accepts imports that follow the layers through index.ts', () => {
    const root = tree({
      'src/core/index.ts': `export const x = 1;`,
      'src/chain/index.ts': `export * from './deploy.js';`,
      'src/chain/deploy.ts': `import { x } from '../core/index.js';`,
      'src/cli/main.ts': `import '../chain/index.js'; import '../core/index.js';`,
      'test/e2e.test.ts': `import '../src/cli/index.js';`,
    });
    expect(checkDependencies(root)).toEqual([]);
  });

  it('reports an upward import, a deep import and a cycle', () => {
    const root = tree({
      'src/core/index.ts': `import '../chain/index.js';`,
      'src/chain/index.ts': `import '../store/db.js';`,
      'src/store/db.ts': `import './pool.js';`,
      'src/store/pool.ts': `import './db.js';`,
      'bench/x.ts': `import '../src/store/pool.js';`,
    });
    expect(checkDependencies(root).sort()).toEqual(
      [
        'bench/x.ts: imports src/store/pool.ts; import src/store/index.ts instead',
        'src/chain/index.ts: imports src/store/db.ts; import src/store/index.ts instead',
        'src/chain/index.ts: src/chain may not import src/store (allowed: core)',
        'src/core/index.ts: src/core may not import src/chain (allowed: nothing)',
        'import cycle: src/store/pool.ts → src/store/db.ts → src/store/pool.ts',
      ].sort(),
    );
  });
});
