/**
 * Compiles contracts/*.sol with solc-js and writes typed artifacts (`{ abi, bytecode } as const`) to
 * src/chain/generated/. Runs on `npm ci` (prepare) and `npm run build`; skips work when nothing changed.
 * Fails on compiler errors, on a deployed size over the EIP-170 limit, and on a public function, event or
 * error without NatSpec.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc') as { version(): string; compile(input: string, opts: object): string };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const contractsDir = join(root, 'contracts');
const outDir = join(root, 'src/chain/generated');
const EIP170_LIMIT = 24_576;

const settings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'], '': ['ast'] } },
};

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  sourceLocation?: { file: string };
  formattedMessage: string;
}
interface ContractOutput {
  abi: unknown[];
  evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
}

function solFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? solFiles(join(dir, e.name)) : e.name.endsWith('.sol') ? [join(dir, e.name)] : [],
  );
}

function findImport(path: string): { contents: string } | { error: string } {
  for (const base of [root, join(root, 'node_modules')]) {
    const full = join(base, path);
    if (existsSync(full)) return { contents: readFileSync(full, 'utf8') };
  }
  return { error: `import not found: ${path}` };
}

interface AstNode {
  nodeType: string;
  name?: string;
  visibility?: string;
  kind?: string;
  stateVariable?: boolean;
  documentation?: unknown;
  src?: string;
  nodes?: AstNode[];
}

/** Public functions, public state variables, events and errors declared in `ast` without NatSpec. */
function undocumented(source: string, ast: AstNode): string[] {
  const missing: string[] = [];
  for (const contract of ast.nodes ?? []) {
    if (contract.nodeType !== 'ContractDefinition') continue;
    for (const n of contract.nodes ?? []) {
      const exposed =
        (n.nodeType === 'FunctionDefinition' &&
          n.kind === 'function' &&
          (n.visibility === 'public' || n.visibility === 'external')) ||
        (n.nodeType === 'VariableDeclaration' && n.stateVariable === true && n.visibility === 'public') ||
        n.nodeType === 'EventDefinition' ||
        n.nodeType === 'ErrorDefinition';
      if (exposed && !n.documentation)
        missing.push(`${source}: ${contract.name}.${n.name} (${n.nodeType}) has no NatSpec`);
    }
  }
  return missing;
}

const files = solFiles(contractsDir).sort();
const sources = Object.fromEntries(files.map((f) => [relative(root, f), { content: readFileSync(f, 'utf8') }]));
const ozVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules/@openzeppelin/contracts/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const cacheKey = createHash('sha256')
  .update(
    JSON.stringify({
      solc: solc.version(),
      ozVersion,
      settings,
      sources,
      script: readFileSync(fileURLToPath(import.meta.url), 'utf8'),
    }),
  )
  .digest('hex');
const keyFile = join(outDir, '.cache-key');
if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === cacheKey) {
  console.error(`contracts: up to date (${files.length} sources)`);
  process.exit(0);
}

const started = Date.now();
const output = JSON.parse(
  solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }), { import: findImport }),
) as {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, ContractOutput>>;
  sources?: Record<string, { ast: AstNode }>;
};
const ours = (file: string | undefined) => file?.startsWith('contracts/') ?? false;
const problems = (output.errors ?? []).filter((e) => e.severity === 'error');
// Warnings from dependencies are theirs to fix; ours are shown.
for (const w of (output.errors ?? []).filter((e) => e.severity === 'warning' && ours(e.sourceLocation?.file)))
  console.error(w.formattedMessage);
if (problems.length > 0) {
  for (const e of problems) console.error(e.formattedMessage);
  console.error(`contracts: ${problems.length} compiler error(s)`);
  process.exit(1);
}

const failures: string[] = [];
const artifacts: { name: string; source: string; c: ContractOutput }[] = [];
for (const [source, contracts] of Object.entries(output.contracts ?? {})) {
  if (!source.startsWith('contracts/')) continue;
  for (const [name, c] of Object.entries(contracts)) {
    const size = c.evm.deployedBytecode.object.length / 2;
    if (size > EIP170_LIMIT)
      failures.push(`${source}: ${name} deploys ${size} bytes, over the EIP-170 limit of ${EIP170_LIMIT}`);
    artifacts.push({ name, source, c });
  }
}
for (const [source, { ast }] of Object.entries(output.sources ?? {}))
  if (ours(source)) failures.push(...undocumented(source, ast));
if (failures.length > 0) {
  for (const f of failures) console.error(f);
  process.exit(1);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const header = '// Generated by scripts/compile-contracts.ts: do not edit, do not commit.\n';
for (const { name, source, c } of artifacts) {
  const body = JSON.stringify({
    contractName: name,
    sourceName: source,
    abi: c.abi,
    bytecode: `0x${c.evm.bytecode.object}`,
  });
  writeFileSync(join(outDir, `${name}.ts`), `${header}export const ${name}Artifact = ${body} as const;\n`);
}
const index = artifacts
  .map(({ name }) => `export { ${name}Artifact } from './${name}.js';`)
  .sort()
  .join('\n');
writeFileSync(join(outDir, 'index.ts'), `${header}${index}\n`);
writeFileSync(keyFile, cacheKey);
console.error(
  `contracts: compiled ${artifacts.length} contracts from ${files.length} sources in ${((Date.now() - started) / 1000).toFixed(1)} s (solc ${solc.version()})`,
);
