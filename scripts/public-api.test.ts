import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, exportedNames, publicApi, snapshotFile, snapshotText, unusedExports } from './public-api.js';

const root = join(import.meta.dirname, '..');

/**
 * Exported names nothing in this repository imports from outside their folder, kept on purpose: folder → name →
 * why. Each has a comment beside its export in the folder's index.ts. Keep this short: an export nobody uses is
 * dropped, not listed here.
 */
const keptUnused: Record<string, Record<string, string>> = {
  cli: { main: 'the entry of bin/tributary.js (plain JS, not scanned), which imports it from dist/cli/index.js' },
  protocol: {
    CallInput: "the node's other clients (the web app) type their calls to createNodeClient's call/open with it",
    NodeClientOptions: "the node's other clients (the web app) pass headers and a paying fetch with it",
  },
};

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'public-api-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('public API of each src/ folder', () => {
  it('is what scripts/public-api.snapshot.json lists', () => {
    const snapshot: unknown = JSON.parse(readFileSync(snapshotFile, 'utf8'));
    expect(
      publicApi(root),
      'what a src/ folder exports changed. If that is intended, run `npx tsx scripts/public-api.ts --write-snapshot` ' +
        'and commit scripts/public-api.snapshot.json with the change, so the API change is reviewed',
    ).toEqual(snapshot);
  });

  it('has only names used outside their folder, and the documented exceptions', () => {
    const expected = Object.fromEntries(
      Object.entries(keptUnused).map(([folder, names]) => [folder, Object.keys(names).sort()]),
    );
    expect(
      unusedExports(root),
      'exports nothing outside their folder imports (`npx tsx scripts/public-api.ts --unused` lists them): drop them ' +
        "from the folder's index.ts and update the snapshot, or, if one is public API for users outside this " +
        'repository, add it to keptUnused in scripts/public-api.test.ts with the reason (and a comment beside the ' +
        'export); an exception now used is removed from keptUnused',
    ).toEqual(expected);
  });

  it('writes a snapshot the test reads back', () => {
    const api = { a: ['X', 'y'], b: Array.from({ length: 30 }, (_, i) => `name${i}`) };
    expect(JSON.parse(snapshotText(api))).toEqual(api);
    expect(snapshotText(api).split('\n')[1]).toBe('  "a": ["X", "y"],');
  });
});

describe('public-api script', () => {
  it('reads code only: comments, template text and regular expressions are blanked, strings kept', () => {
    // TypeScript source as text; § stands for $ (a "${" in a plain string reads as a mistake to the linter).
    const src = [
      'const r = /[\'"`]/g; // export const commented = 1;',
      "const t = `export { fake } from './fake.js'; §{a ? `x` : '}'} done`;",
      "/* import { b } from './b.js'; */ export { real } from './real.js';",
    ]
      .join('\n')
      .replaceAll('§', '$');
    const code = codeOf(src);
    expect(code).toHaveLength(src.length);
    expect(code).not.toMatch(/commented|fake|import/);
    expect(code).toContain("export { real } from './real.js';");
    expect(code).toContain('a ? `');
  });

  it('follows export * and counts a namespace as one name; reads multi-line type lists with comments', () => {
    const dir = tree({
      'index.ts': [
        '/** Not an export: export const inDoc = 1; */',
        "export * from './a.js';",
        "export * as ns from './b.js';",
        'export type {',
        '  // the shape of C',
        '  C,',
        '  D as E, /* renamed */',
        "} from './c.js';",
        "export { f, type G } from './f.js';",
        'const h = 1;',
        'export { h };',
        'export const { i, j: k } = obj;',
        'export const fixture = `export const inTemplate = 1;`;',
      ].join('\n'),
      'a.ts': 'export const a1 = 1;\nexport interface A2 {}\nexport async function* a3() {}\nexport const enum A4 {}\n',
      'b.ts': 'export const b1 = 1;\n',
    });
    expect(exportedNames(join(dir, 'index.ts'))).toEqual(
      ['A2', 'A4', 'C', 'E', 'G', 'a1', 'a3', 'f', 'fixture', 'h', 'i', 'k', 'ns'].sort(),
    );
  });

  it('counts every import form from outside the folder, not its own files, comments or fixture text', () => {
    const dir = tree({
      'src/core/index.ts': "export { a, b, c, d, e, f, g, h, type T, type U, type V } from './x.js';",
      'src/core/own.ts': "import { e } from './index.js';",
      'src/chain/x.ts': [
        'import type {',
        '  T, // a type',
        "} from '../core/index.js';",
        "import { type U as W, f as ff } from '../core/index.js';",
        "// import { g } from '../core/index.js';",
        "const fixture = `import { h } from '../core/index.js';`;",
      ].join('\n'),
      'test/t.test.ts': "import def, { a } from '../src/core/index.js';",
      'bench/b.ts': "const { b, c: renamed } = await import('../src/core/index.js');",
      'scripts/s.ts': "type X = import('../src/core/index.js').V;",
      'contracts/C.test.ts': "import { d } from '../src/core/index.js';",
    });
    expect(unusedExports(dir)).toEqual({ core: ['e', 'g', 'h'] });
  });

  it('counts every name used when another folder imports or re-exports the whole module', () => {
    const dir = tree({
      'src/core/index.ts': 'export const a = 1;\nexport const b = 2;',
      'src/store/index.ts': 'export const s = 1;',
      'src/chain/index.ts': "export * from '../core/index.js';",
      'test/t.test.ts': "import * as store from '../src/store/index.js';\nimport '../src/chain/index.js';",
    });
    expect(unusedExports(dir)).toEqual({ chain: ['a', 'b'] });
  });
});
