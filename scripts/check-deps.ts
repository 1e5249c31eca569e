/**
 * Enforces DESIGN.md's architecture: domain folders under src/ depend one way
 * (cli, node → factory, openlora, settlement → datanets, attribution, engine → chain, store → core, with the
 * protocol layer — the wire shapes — above core and below every domain that crosses a boundary),
 * another folder is imported only through its index.ts, and there are no import cycles between files.
 * Tests, benches and scripts may use any domain, but only through its index.ts (or a test fixture).
 *
 * Table ownership: each table belongs to one src/ folder (`tableOwners`); a table named in SQL (FROM, JOIN, INTO,
 * UPDATE <table> in a string or template literal) by a file of another folder is a problem — that folder calls the
 * owner's exported functions instead. Tests and migrations are exempt; a table created anywhere in src/ must have
 * an owner here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which folders each src/ folder may import. Same-layer edges are listed explicitly, never implied. */
/** The node assembles every domain; the CLI may also use the node. */
const nodeImports = [
  'core',
  'protocol',
  'chain',
  'store',
  'engine',
  'datanets',
  'attribution',
  'factory',
  'openlora',
  'settlement',
];

export const allowedImports: Record<string, string[]> = {
  core: [],
  protocol: ['core'],
  chain: ['core'],
  store: ['core'],
  engine: ['core', 'store'],
  datanets: ['core', 'protocol', 'chain', 'store'],
  attribution: ['core', 'protocol', 'chain', 'store', 'engine', 'datanets'],
  factory: ['core', 'protocol', 'chain', 'store', 'engine', 'datanets', 'attribution'],
  openlora: ['core', 'protocol', 'chain', 'store', 'engine', 'attribution'],
  settlement: ['core', 'protocol', 'chain', 'store', 'datanets', 'attribution'],
  node: nodeImports,
  cli: [...nodeImports, 'node'],
};

/**
 * Which src/ folder owns each table (derived from the migrations and who writes them). chain_cursors and
 * chain_cursor_blocks are the chain-event mirror's place: the mirror (src/chain) takes its storage injected, and the
 * SQL for it lives in src/store (chainCursorStore), which every domain hands to its mirror.
 */
export const tableOwners: Record<string, string> = {
  schema_migrations: 'store',
  node_meta: 'store',
  jobs: 'store',
  chain_cursors: 'store',
  chain_cursor_blocks: 'store',
  datanets: 'datanets',
  datanet_curators: 'datanets',
  contributions: 'datanets',
  used_nonces: 'datanets',
  reviews: 'datanets',
  datanet_versions: 'datanets',
  version_members: 'datanets',
  models: 'openlora',
  base_models: 'factory',
  model_versions: 'openlora',
  usage_records: 'openlora',
  channels: 'settlement',
  receipts: 'settlement',
  epochs: 'settlement',
  epoch_payouts: 'settlement',
};

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) out.push((m[1] ?? m[2]) as string);
  return out;
}

/**
 * The text of every string and template literal in a TypeScript source (a template's `${…}` parts are read as
 * code, so nested literals count on their own); comments are skipped. Regular-expression literals are not
 * recognized: a quote inside one opens a string that ends at the next quote or line end.
 */
export function stringLiterals(source: string): string[] {
  const out: string[] = [];
  const templateDepths: number[] = []; // for each open `${`, the brace depth its `}` returns to
  let depth = 0;
  let i = 0;
  const readTemplate = () => {
    let text = '';
    i++; // the backtick, or the } that closes an expression
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') {
        text += source[i + 1] ?? '';
        i += 2;
      } else if (c === '`') {
        i++;
        break;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        templateDepths.push(depth);
        depth++;
        break;
      } else {
        text += c;
        i++;
      }
    }
    out.push(text);
  };
  while (i < source.length) {
    const c = source[i];
    if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === "'" || c === '"') {
      let text = '';
      i++;
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') i++;
        text += source[i] ?? '';
        i++;
      }
      i++;
      out.push(text);
    } else if (c === '`') {
      readTemplate();
    } else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      depth--;
      if (templateDepths.at(-1) === depth) {
        templateDepths.pop();
        readTemplate();
      } else i++;
    } else i++;
  }
  return out;
}

const SQL_TABLE = /\b(?:from|join|into|update)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()/gi;
const CREATE_TABLE = /\bcreate\s+table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)/gi;

/** The names after FROM, JOIN, INTO and UPDATE in the source's literals (lower case, each once, in order). */
export function tablesNamedIn(source: string): string[] {
  const names = new Set<string>();
  for (const text of stringLiterals(source)) {
    for (const m of text.matchAll(SQL_TABLE)) names.add((m[1] ?? '').toLowerCase());
  }
  return [...names];
}

/** Tables named in SQL by a folder that does not own them, and created tables nobody owns. */
export function checkTableOwnership(root: string, owners: Record<string, string> = tableOwners): string[] {
  const problems: string[] = [];
  const src = join(root, 'src');
  let files: string[];
  try {
    files = tsFiles(src);
  } catch {
    return problems;
  }
  for (const file of files) {
    const where = relative(root, file);
    const folder = folderOf(root, file);
    if (/\.test\.tsx?$/.test(file)) continue;
    const source = readFileSync(file, 'utf8');
    for (const text of stringLiterals(source)) {
      for (const m of text.matchAll(CREATE_TABLE)) {
        const table = (m[1] ?? '').toLowerCase();
        if (!(table in owners)) {
          problems.push(`${where}: creates table ${table}, which has no owner in tableOwners (scripts/check-deps.ts)`);
        }
      }
    }
    if (folder === undefined || where.startsWith(join('src', 'store', 'migrations'))) continue;
    for (const table of tablesNamedIn(source)) {
      const owner = owners[table];
      if (owner !== undefined && owner !== folder) {
        problems.push(
          `${where}: names table ${table} in SQL, which src/${owner} owns; call a function src/${owner} exports instead`,
        );
      }
    }
  }
  return problems;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules' || name === 'generated' || name.startsWith('.')) return [];
    if (statSync(full).isDirectory()) return tsFiles(full);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The src/ folder a file belongs to, or undefined outside src/. */
function folderOf(root: string, file: string): string | undefined {
  const rel = relative(join(root, 'src'), file);
  return rel.startsWith('..') ? undefined : rel.split('/')[0];
}

function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(from), spec).replace(/\.js$/, '.ts');
}

export function checkDependencies(root: string, owners: Record<string, string> = tableOwners): string[] {
  const problems: string[] = checkTableOwnership(root, owners);
  const files = ['src', 'test', 'bench', 'scripts', 'contracts']
    .map((d) => join(root, d))
    .filter((d) => {
      try {
        return statSync(d).isDirectory();
      } catch {
        return false;
      }
    })
    .flatMap(tsFiles);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const from = folderOf(root, file);
    const edges: string[] = [];
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolveImport(file, spec);
      if (!target) continue;
      edges.push(target);
      const to = folderOf(root, target);
      if (to === undefined || to === from) continue;
      const where = relative(root, file);
      if (from !== undefined && !(allowedImports[from] ?? []).includes(to)) {
        problems.push(
          `${where}: src/${from} may not import src/${to} (allowed: ${(allowedImports[from] ?? []).join(', ') || 'nothing'})`,
        );
      }
      const isIndex = relative(join(root, 'src', to), target) === 'index.ts';
      if (!isIndex) problems.push(`${where}: imports ${relative(root, target)}; import src/${to}/index.ts instead`);
    }
    graph.set(file, edges);
  }
  problems.push(
    ...findCycles(graph).map((cycle) => `import cycle: ${cycle.map((f) => relative(root, f)).join(' → ')}`),
  );
  return problems;
}

/** Every elementary cycle reachable by DFS (one report per back edge). */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'active') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkDependencies(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`dependency check: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.error('dependency check: ok');
}
