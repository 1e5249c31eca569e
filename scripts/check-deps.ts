/**
 * Enforces DESIGN.md's architecture: domain folders under src/ depend one way
 * (cli, node → factory, openlora, settlement → datanets, attribution, engine → chain, store → core, with the
 * protocol layer — the wire shapes — above core and below every domain that crosses a boundary),
 * another folder is imported only through its index.ts, and there are no import cycles between files.
 * Tests, benches and scripts may use any domain, but only through its index.ts (or a test fixture).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which folders each src/ folder may import. Same-layer edges are listed explicitly, never implied. */
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
  node: [
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
  ],
  cli: [
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
    'node',
  ],
};

const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) out.push((m[1] ?? m[2]) as string);
  return out;
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

export function checkDependencies(root: string): string[] {
  const problems: string[] = [];
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
