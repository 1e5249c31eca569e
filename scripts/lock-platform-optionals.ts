/**
 * The registry this project is built against mirrors only some platforms' prebuilt binaries (for example
 * node-llama-cpp's Linux builds but not its macOS or Windows ones). npm then cannot write lock entries for the
 * missing optional packages, and `npm ci` refuses a lock that lacks them. A lock made against the full registry
 * lists them as optional entries gated by os/cpu, which npm skips on other platforms without fetching; this
 * script adds exactly those entries, inferring os and cpu from the package name.
 *
 *   npx tsx scripts/lock-platform-optionals.ts          fix package-lock.json in place (run after npm install)
 *   npx tsx scripts/lock-platform-optionals.ts --check  exit 1 if entries are missing (part of npm run check)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface LockEntry {
  version?: string;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  optionalDependencies?: Record<string, string>;
}
interface Lock {
  packages: Record<string, LockEntry>;
}

const OS: [RegExp, string][] = [
  [/(?:^|-)(?:darwin|mac|macos)(?:-|$)/, 'darwin'],
  [/(?:^|-)(?:win32|win|windows)(?:-|$)/, 'win32'],
  [/(?:^|-)linux(?:-|$)/, 'linux'],
  [/(?:^|-)(freebsd|openbsd|netbsd|sunos|aix|android)(?:-|$)/, '$1'],
];
const CPU: [RegExp, string][] = [
  [/(?:^|-)(?:arm64|aarch64)(?:-|$)/, 'arm64'],
  [/(?:^|-)(?:x64|amd64|x86_64)(?:-|$)/, 'x64'],
  [/(?:^|-)(?:armv7l|arm)(?:-|$)/, 'arm'],
  [/(?:^|-)(riscv64|ia32|loong64|ppc64|s390x|mips64el)(?:-|$)/, '$1'],
];

function infer(table: [RegExp, string][], name: string): string | undefined {
  const base = name.split('/').pop() ?? name;
  for (const [re, value] of table) {
    const m = re.exec(base);
    if (m) return value.startsWith('$') ? (m[1] as string) : value;
  }
  return undefined;
}

/** Lock entries that optional dependencies need but the lock does not have. */
export function missingOptionals(lock: Lock): { path: string; entry: LockEntry }[] {
  const out: { path: string; entry: LockEntry }[] = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    for (const [name, spec] of Object.entries(pkg.optionalDependencies ?? {})) {
      const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
      if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
      const os = infer(OS, name);
      const cpu = infer(CPU, name);
      if (!os || !cpu || !/^\d+\.\d+\.\d+/.test(spec)) {
        throw new Error(
          `Cannot infer a platform-gated lock entry for ${name}@${spec} (needed by ${path || 'the root package'})`,
        );
      }
      out.push({ path: `node_modules/${name}`, entry: { version: spec, optional: true, os: [os], cpu: [cpu] } });
    }
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package-lock.json');
  const lock = JSON.parse(readFileSync(file, 'utf8')) as Lock;
  const missing = missingOptionals(lock);
  if (process.argv.includes('--check')) {
    if (missing.length > 0) {
      console.error(
        `package-lock.json lacks ${missing.length} platform-gated optional entries (${missing.map((m) => m.path).join(', ')}); run: npx tsx scripts/lock-platform-optionals.ts`,
      );
      process.exit(1);
    }
    console.error('lock file: ok');
  } else {
    for (const m of missing) lock.packages[m.path] = m.entry;
    const sorted = Object.fromEntries(
      Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
    );
    writeFileSync(file, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
    console.error(`lock file: added ${missing.length} platform-gated optional entries`);
  }
}
