/**
 * The public API of each src/ folder: the names its index.ts exports (following `export *` into the files it
 * re-exports; a namespace `export * as ns` is one name), and which of them anything outside the folder imports.
 * `publicApi(root)` feeds the snapshot test (scripts/public-api.test.ts), so a change to what a folder offers is
 * a reviewed change; `unusedExports(root)` names the exports nobody outside the folder uses.
 * Usage: tsx scripts/public-api.ts [--unused]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const EXPORT_FROM = /export\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
const EXPORT_STAR = /export\s+\*\s+from\s*['"]([^'"]+)['"]/g;
const EXPORT_NS = /export\s+\*\s+as\s+(\w+)\s+from\s*['"]([^'"]+)['"]/g;
const EXPORT_LOCAL_LIST = /export\s+(type\s+)?\{([^}]*)\}\s*;/g;
const EXPORT_DECL =
  /export\s+(?:declare\s+)?(?:async\s+)?(?:const|let|function\*?|class|type|interface|enum|abstract\s+class)\s+(\w+)/g;

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

/** The names a module exports, following `export * from`. */
export function exportedNames(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(EXPORT_NS)) out.push(m[1] as string);
  for (const m of source.matchAll(EXPORT_STAR)) out.push(...exportedNames(fileOf(file, m[1] as string), seen));
  for (const m of source.matchAll(EXPORT_FROM)) out.push(...namesIn(m[2] as string));
  for (const m of source.matchAll(EXPORT_LOCAL_LIST)) out.push(...namesIn(m[2] as string));
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

const IMPORT_LIST = /(?:import|export)\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
const IMPORT_NS = /import\s+\*\s+as\s+\w+\s+from\s*['"]([^'"]+)['"]/g;

/** Per folder, the exported names no file outside it (src, test, bench, scripts) imports. */
export function unusedExports(root: string): Record<string, string[]> {
  const used = new Map<string, Set<string>>();
  const everything = new Set<string>();
  const files = ['src', 'test', 'bench', 'scripts'].flatMap((d) => tsFiles(join(root, d)));
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    const own = relative(join(root, 'src'), file).split('/')[0];
    const target = (spec: string) => {
      if (!spec.startsWith('.')) return undefined;
      const rel = relative(join(root, 'src'), resolve(dirname(file), spec));
      const [folder, rest] = rel.split('/');
      return folder && folder !== own && (rest === 'index.js' || rest === 'index.ts') ? folder : undefined;
    };
    for (const m of source.matchAll(IMPORT_LIST)) {
      const folder = target(m[2] as string);
      if (!folder) continue;
      const set = used.get(folder) ?? new Set<string>();
      for (const n of (m[1] as string).split(',')) {
        const name = n
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]
          ?.trim();
        if (name) set.add(name);
      }
      used.set(folder, set);
    }
    for (const m of source.matchAll(IMPORT_NS)) {
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

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = join(import.meta.dirname, '..');
  const api = publicApi(root);
  const unused = unusedExports(root);
  const total = Object.values(api).reduce((n, names) => n + names.length, 0);
  const unusedTotal = Object.values(unused).reduce((n, names) => n + names.length, 0);
  if (process.argv.includes('--unused')) console.log(JSON.stringify(unused, null, 1));
  console.log(JSON.stringify({ exported: total, unusedOutsideFolder: unusedTotal }));
}
