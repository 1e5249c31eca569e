import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDependencies, importsOf, stringLiterals, tablesNamedIn } from './check-deps.js';

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

  it('reads SQL only in literals: template parts, nested templates, not comments or code', () => {
    // TypeScript source as text; § stands for $ (a "${" in a plain string reads as a mistake to the linter).
    const src = [
      '// SELECT * FROM in_a_comment',
      '/* UPDATE in_a_block_comment */',
      "const from = 1; const q = 'SELECT id FROM contributions c JOIN reviews r ON true';",
      'const t = `INSERT INTO channels §{rows.map((r) => `(§{r})`).join(`, `)} ON CONFLICT DO NOTHING`;',
      'const u = `UPDATE epochs SET x = §{"FROM receipts"} WHERE y`;',
      "const f = 'SELECT * FROM unnest($1::text[])';",
    ]
      .join('\n')
      .replaceAll('§', '$');
    expect(stringLiterals('a `x§{`y§{z}`}w` b'.replaceAll('§', '$'))).toEqual(['x', 'y', '', 'w']);
    expect(tablesNamedIn(src)).toEqual(['contributions', 'reviews', 'channels', 'epochs', 'receipts']);
  });

  it("reports SQL on another folder's table and a created table nobody owns; tests and migrations are exempt", () => {
    const owners = { contributions: 'datanets', chain_cursors: 'store', receipts: 'settlement' };
    const root = tree({
      'src/datanets/index.ts': `export const q = 'SELECT id FROM contributions';`,
      'src/settlement/withdrawals.ts': 'export const q = `SELECT withdrawn_at FROM contributions WHERE id = $1`;',
      'src/settlement/receipts.ts': `export const q = 'INSERT INTO receipts (id) VALUES ($1)';`,
      'src/node/system.ts': `export const q = 'SELECT name, block FROM chain_cursors';`,
      'src/settlement/x.test.ts': `export const q = 'SELECT * FROM contributions; CREATE TABLE scratch (a int)';`,
      'src/store/migrations/001_x.ts': `export default { sql: 'CREATE TABLE contributions (id text); CREATE TABLE orphans (id text)' };`,
      'test/e2e.test.ts': `export const q = 'SELECT * FROM receipts';`,
    });
    expect(checkDependencies(root, owners).sort()).toEqual(
      [
        'src/node/system.ts: names table chain_cursors in SQL, which src/store owns; call a function src/store exports instead',
        'src/settlement/withdrawals.ts: names table contributions in SQL, which src/datanets owns; call a function src/datanets exports instead',
        'src/store/migrations/001_x.ts: creates table orphans, which has no owner in tableOwners (scripts/check-deps.ts)',
      ].sort(),
    );
  });
});
