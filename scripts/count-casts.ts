/**
 * Counts type assertions (`x as T`, `as unknown as`) in src/ outside tests and generated code, per folder.
 * `as const` is not a cast, and neither are import/export renames. Comments and string literals are skipped.
 * Usage: tsx scripts/count-casts.ts [--list]   (prints JSON: {total, unknownAs, byFolder})
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'generated' || name.startsWith('.')) return [];
    if (statSync(full).isDirectory()) return files(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/**
 * Replaces comments and the text of string literals with spaces, keeping line numbers. The `${…}` expressions of
 * template literals are code and stay (a cast inside one counts).
 */
export function codeOnly(source: string): string {
  let out = '';
  let i = 0;
  /** For each open template expression, how many `{` deep we are inside it. */
  const templates: number[] = [];
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  /** Scans template text from `i` (just after a backtick or a closing `}`) to its end or its next `${`. */
  const templateText = () => {
    let j = i;
    while (j < source.length && source[j] !== '`' && !(source[j] === '$' && source[j + 1] === '{'))
      j += source[j] === '\\' ? 2 : 1;
    out += blank(source.slice(i, j));
    if (source[j] === '`') {
      out += '`';
      i = j + 1;
    } else {
      out += '${';
      templates.push(0);
      i = j + 2;
    }
  };
  while (i < source.length) {
    const c = source[i] as string;
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < source.length && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      out += `${c}${blank(source.slice(i + 1, j))}${c}`;
      i = j + 1;
    } else if (c === '`') {
      out += '`';
      i++;
      templateText();
    } else if (templates.length > 0 && (c === '{' || c === '}')) {
      const depth = templates.length - 1;
      if (c === '{') templates[depth] = (templates[depth] ?? 0) + 1;
      else if (templates[depth] === 0) {
        templates.pop();
        out += '}';
        i++;
        templateText();
        continue;
      } else templates[depth] = (templates[depth] ?? 1) - 1;
      out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const CAST = /\bas\s+(?!const\b)[A-Za-z_{([`]/g;
/** Import statements and `export {…}` lists, whose `a as b` renames are not casts. */
const IMPORT_EXPORT =
  /^\s*(?:import\s[^;]*?from\s*'[^']*'|export\s+(?:type\s+)?\{[^}]*\}(?:\s*from\s*'[^']*')?)\s*;/gms;

const root = join(import.meta.dirname, '..');
const byFolder: Record<string, number> = {};
const list: string[] = [];
let total = 0;
let unknownAs = 0;
for (const file of files(join(root, 'src'))) {
  const code = codeOnly(readFileSync(file, 'utf8')).replace(IMPORT_EXPORT, (m) => m.replace(/[^\n]/g, ' '));
  const lines = code.split('\n');
  lines.forEach((line, n) => {
    const hits = [...line.matchAll(CAST)].filter((m) => !/\*\s*$/.test(line.slice(0, m.index)));
    if (hits.length === 0) return;
    const rel = relative(root, file);
    const folder = rel.split('/')[1] as string;
    byFolder[folder] = (byFolder[folder] ?? 0) + hits.length;
    total += hits.length;
    unknownAs += (line.match(/\bas\s+unknown\s+as\b/g) ?? []).length;
    list.push(`${rel}:${n + 1}: ${line.trim()}`);
  });
}
if (process.argv.includes('--list')) console.log(list.join('\n'));
console.log(JSON.stringify({ total, unknownAs, byFolder }));
