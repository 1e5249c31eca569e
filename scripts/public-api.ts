/**
 * The public API of each src/ folder: the names its index.ts exports (following `export *` into the files it
 * re-exports; a namespace `export * as ns` is one name), and which of them anything outside the folder imports.
 * `publicApi(root)` feeds the snapshot test (scripts/public-api.test.ts), so a change to what a folder offers is
 * a reviewed change; `unusedExports(root)` names the exports nobody outside the folder uses.
 * Usage: tsx scripts/public-api.ts [--unused] [--write-snapshot]
 *   --unused          prints, per folder, the exported names nothing outside it imports
 *   --write-snapshot  writes scripts/public-api.snapshot.json from the index files (after a reviewed API change)
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const EXPORT_FROM = /export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
const EXPORT_STAR = /export\s+(?:type\s+)?\*\s+from\s*['"]([^'"]+)['"]/g;
const EXPORT_NS = /export\s+(?:type\s+)?\*\s+as\s+(\w+)\s+from\s*['"]([^'"]+)['"]/g;
const EXPORT_LOCAL_LIST = /export\s+(?:type\s+)?\{([^}]*)\}(?!\s*from\b)/g;
const EXPORT_DESTRUCTURED = /export\s+(?:const|let|var)\s*\{([^}]*)\}\s*=/g;
const EXPORT_DECL =
  /export\s+(?:declare\s+)?(?:async\s+)?(?:const\s+enum|const|let|var|function\s*\*?|class|type|interface|enum|namespace|abstract\s+class)\s+(\w+)/g;

/** Before a `/` that starts a regular expression (not a division): these keywords, or no operand at all. */
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

/**
 * The source with comments, template-literal text and regular-expression literals blanked (same length, newlines
 * kept), so only code is matched: an `export` inside a comment or a test's fixture text is not one. Quoted strings
 * stay (module specifiers are quoted strings).
 */
export function codeOf(source: string): string {
  const out = source.split('');
  const n = source.length;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const regexMayStart = (at: number): boolean => {
    let k = at - 1;
    while (k >= 0 && /\s/.test(out[k] as string)) k--;
    if (k < 0) return true;
    const c = out[k] as string;
    if (/[\w$]/.test(c)) {
      let w = k;
      while (w > 0 && /[\w$]/.test(out[w - 1] as string)) w--;
      return KEYWORDS_BEFORE_EXPRESSION.has(out.slice(w, k + 1).join(''));
    }
    return !/[)\]'"`]/.test(c);
  };
  const skipQuoted = (i: number): number => {
    const quote = source[i];
    let k = i + 1;
    while (k < n && source[k] !== quote && source[k] !== '\n') k += source[k] === '\\' ? 2 : 1;
    return k + 1;
  };
  // Code until the `}` closing a template's `${` (inTemplate), or the end; returns the index after it.
  const code = (start: number, inTemplate: boolean): number => {
    let depth = 0;
    let i = start;
    while (i < n) {
      const c = source[i];
      const next = source[i + 1];
      if (c === '/' && next === '/') {
        const end = source.indexOf('\n', i);
        const stop = end < 0 ? n : end;
        blank(i, stop);
        i = stop;
      } else if (c === '/' && next === '*') {
        const end = source.indexOf('*/', i + 2);
        const stop = end < 0 ? n : end + 2;
        blank(i, stop);
        i = stop;
      } else if (c === "'" || c === '"') {
        i = skipQuoted(i);
      } else if (c === '`') {
        i = template(i + 1);
      } else if (c === '/' && regexMayStart(i)) {
        let k = i + 1;
        let inClass = false;
        while (k < n && source[k] !== '\n' && (inClass || source[k] !== '/')) {
          if (source[k] === '\\') k++;
          else if (source[k] === '[') inClass = true;
          else if (source[k] === ']') inClass = false;
          k++;
        }
        blank(i + 1, k);
        i = k + 1;
      } else if (c === '{') {
        depth++;
        i++;
      } else if (c === '}') {
        if (inTemplate && depth === 0) return i + 1;
        depth--;
        i++;
      } else {
        i++;
      }
    }
    return n;
  };
  // Template text until its closing backtick; each `${…}` is code.
  const template = (start: number): number => {
    let i = start;
    while (i < n) {
      if (source[i] === '\\') {
        blank(i, i + 2);
        i += 2;
      } else if (source[i] === '`') {
        return i + 1;
      } else if (source[i] === '$' && source[i + 1] === '{') {
        i = code(i + 2, true);
      } else {
        blank(i, i + 1);
        i++;
      }
    }
    return n;
  };
  code(0, false);
  return out.join('');
}

function fileOf(from: string, spec: string): string {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  return `${base}.ts`;
}

/** `a`, `type B`, `c as d` → the exported names (`a`, `B`, `d`). */
function namesIn(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter((s) => s.length > 0)
    .map((s) => (s.split(/\s+as\s+/)[1] ?? s).trim());
}

/** `a`, `type B`, `c as d` in an import list → the names imported from the module (`a`, `B`, `c`). */
function importedIn(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter((s) => s.length > 0)
    .map((s) => (s.split(/\s+as\s+/)[0] as string).trim());
}

/** `a`, `b: c`, `d = 1`, `...e` in a destructuring pattern → the properties read (`a`, `b`, `d`). */
function propertiesIn(pattern: string): string[] {
  return pattern
    .split(',')
    .map((s) => (s.trim().split(/\s*[:=]/)[0] as string).trim())
    .filter((s) => /^[\w$]+$/.test(s));
}

/** `a`, `b: c`, `d = 1` in `export const {…} =` → the names it binds and exports (`a`, `c`, `d`). */
function bindingsIn(pattern: string): string[] {
  return pattern
    .split(',')
    .map((s) => ((s.split(':').at(-1) as string).split('=')[0] as string).trim())
    .filter((s) => /^[\w$]+$/.test(s));
}

/** The names a module exports, following `export * from`. */
export function exportedNames(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const source = codeOf(readFileSync(file, 'utf8'));
  const out: string[] = [];
  for (const m of source.matchAll(EXPORT_NS)) out.push(m[1] as string);
  for (const m of source.matchAll(EXPORT_STAR)) out.push(...exportedNames(fileOf(file, m[1] as string), seen));
  for (const m of source.matchAll(EXPORT_FROM)) out.push(...namesIn(m[1] as string));
  for (const m of source.matchAll(EXPORT_LOCAL_LIST)) out.push(...namesIn(m[1] as string));
  for (const m of source.matchAll(EXPORT_DESTRUCTURED)) out.push(...bindingsIn(m[1] as string));
  for (const m of source.matchAll(EXPORT_DECL)) out.push(m[1] as string);
  return [...new Set(out)].sort();
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules' || name === 'generated' || name.startsWith('.')) return [];
    if (statSync(full).isDirectory()) return tsFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

export function folders(root: string): string[] {
  return readdirSync(join(root, 'src'))
    .filter((d) => existsSync(join(root, 'src', d, 'index.ts')))
    .sort();
}

/** Every folder's exported names. */
export function publicApi(root: string): Record<string, string[]> {
  return Object.fromEntries(folders(root).map((f) => [f, exportedNames(join(root, 'src', f, 'index.ts'))]));
}

/** `import {…}`, `import type {…}`, `import x, {…}`, `export {…} from`, `export type {…} from`. */
const IMPORT_LIST =
  /(?:import\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?|export\s+(?:type\s+)?)\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
/** `import * as x from`, `export * from`, `export * as x from`: every name of the module. */
const IMPORT_ALL =
  /(?:import\s+(?:type\s+)?\*\s+as\s+[\w$]+|export\s+(?:type\s+)?\*(?:\s+as\s+[\w$]+)?)\s+from\s*['"]([^'"]+)['"]/g;
/** `import('…')` (dynamic, or a type query): `import('…').x` names x, `const { a, b } = await import('…')` a and b. */
const IMPORT_CALL = /import\(\s*['"]([^'"]+)['"]\s*\)(\s*\.\s*([\w$]+))?/g;
const IMPORT_CALL_DESTRUCTURED = /(?:const|let|var)\s*\{([^}]*)\}\s*=\s*(?:await\s+)?import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The folders whose TypeScript may import a src/ folder: those tsconfig.json includes (contracts/ has its tests). */
const SCANNED = ['src', 'test', 'bench', 'scripts', 'contracts'];

/** Per folder, the exported names no file outside it (src, test, bench, scripts, contracts) imports. */
export function unusedExports(root: string): Record<string, string[]> {
  const used = new Map<string, Set<string>>();
  const everything = new Set<string>();
  const use = (folder: string, names: string[]) => {
    const set = used.get(folder) ?? new Set<string>();
    for (const name of names) set.add(name);
    used.set(folder, set);
  };
  const files = SCANNED.flatMap((d) => tsFiles(join(root, d)));
  for (const file of files) {
    const source = codeOf(readFileSync(file, 'utf8'));
    const own = relative(join(root, 'src'), file).split('/')[0];
    const target = (spec: string) => {
      if (!spec.startsWith('.')) return undefined;
      const rel = relative(join(root, 'src'), resolve(dirname(file), spec));
      const [folder, rest, ...more] = rel.split('/');
      const isIndex = more.length === 0 && (rest === 'index.js' || rest === 'index.ts');
      return folder && folder !== '..' && folder !== own && isIndex ? folder : undefined;
    };
    for (const m of source.matchAll(IMPORT_LIST)) {
      const folder = target(m[2] as string);
      if (folder) use(folder, importedIn(m[1] as string));
    }
    for (const m of source.matchAll(IMPORT_CALL_DESTRUCTURED)) {
      const folder = target(m[2] as string);
      if (folder) use(folder, propertiesIn(m[1] as string));
    }
    for (const m of source.matchAll(IMPORT_CALL)) {
      const folder = target(m[1] as string);
      if (!folder) continue;
      if (m[3]) use(folder, [m[3]]);
      else if (!destructured(source, m.index)) everything.add(folder);
    }
    for (const m of source.matchAll(IMPORT_ALL)) {
      const folder = target(m[1] as string);
      if (folder) everything.add(folder);
    }
  }
  const out: Record<string, string[]> = {};
  for (const [folder, names] of Object.entries(publicApi(root))) {
    if (everything.has(folder)) continue;
    const unused = names.filter((n) => !used.get(folder)?.has(n));
    if (unused.length > 0) out[folder] = unused;
  }
  return out;
}

/** Whether the `import(` at `at` is the right side of `const {…} = await` (IMPORT_CALL_DESTRUCTURED read it). */
function destructured(source: string, at: number): boolean {
  return /\}\s*=\s*(?:await\s+)?$/.test(source.slice(Math.max(0, at - 200), at));
}

/** The snapshot scripts/public-api.test.ts compares `publicApi` with; written by `--write-snapshot`. */
export const snapshotFile = join(import.meta.dirname, 'public-api.snapshot.json');

/** The snapshot's text, laid out as biome formats JSON (a list on one line when it fits in 120 columns). */
export function snapshotText(api: Record<string, string[]>): string {
  const entries = Object.entries(api).map(([folder, names], i, all) => {
    const comma = i < all.length - 1 ? ',' : '';
    const flat = `  ${JSON.stringify(folder)}: [${names.map((n) => JSON.stringify(n)).join(', ')}]${comma}`;
    if (flat.length <= 120) return flat;
    return `  ${JSON.stringify(folder)}: [\n${names.map((n) => `    ${JSON.stringify(n)}`).join(',\n')}\n  ]${comma}`;
  });
  return `{\n${entries.join('\n')}\n}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = join(import.meta.dirname, '..');
  const api = publicApi(root);
  const unused = unusedExports(root);
  const total = Object.values(api).reduce((n, names) => n + names.length, 0);
  const unusedTotal = Object.values(unused).reduce((n, names) => n + names.length, 0);
  if (process.argv.includes('--unused')) console.log(JSON.stringify(unused, null, 1));
  if (process.argv.includes('--write-snapshot')) writeFileSync(snapshotFile, snapshotText(api));
  console.log(JSON.stringify({ exported: total, unusedOutsideFolder: unusedTotal }));
}
