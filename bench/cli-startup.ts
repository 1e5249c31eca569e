/**
 * Start-up time of the `tributary` command: `tributary --version` and `tributary --help` (node bin/tributary.js,
 * which runs the compiled dist/, so run `npm run build` first), against the baseline of `node -e 0` in the same
 * run. The three commands take turns, so a change of machine load during the run affects all of them alike.
 * CLI_STARTUP_RUNS sets the runs per command (default 10). Prints one JSON line per command: best and median
 * wall-clock ms of the spawned process, and the best over the baseline's best.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'tributary.js');

interface Case {
  command: string;
  args: string[];
  /** What its stdout must be or contain: a run that fails is not a measurement. */
  check: (stdout: string) => boolean;
  baseline?: true;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number) => Math.round(x * 10) / 10;

export async function run(): Promise<void> {
  if (!existsSync(join(root, 'dist', 'cli', 'index.js'))) throw new Error('cli-startup: no dist/; run npm run build');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const runs = Number(process.env.CLI_STARTUP_RUNS ?? 10);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('cli-startup: CLI_STARTUP_RUNS must be a positive integer');
  const cases: Case[] = [
    { command: 'node -e 0', args: ['-e', '0'], check: (out) => out === '', baseline: true },
    { command: 'tributary --version', args: [bin, '--version'], check: (out) => out.trim() === version },
    { command: 'tributary --help', args: [bin, '--help'], check: (out) => out.startsWith('Usage: tributary') },
  ];
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of cases.entries()) {
      const t0 = performance.now();
      const p = spawnSync(process.execPath, c.args, { cwd: root, encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (p.status !== 0 || !c.check(p.stdout))
        throw new Error(`cli-startup: ${c.command} exited ${p.status}: ${p.stderr || p.stdout}`);
      times[i]!.push(ms);
    }
  }
  const baselineBest = Math.min(...times[0]!);
  for (const [i, c] of cases.entries()) {
    const best = Math.min(...times[i]!);
    process.stdout.write(
      `${JSON.stringify({
        suite: 'cli-startup',
        command: c.command,
        ...(c.baseline ? { baseline: true } : {}),
        runs,
        bestMs: round(best),
        medianMs: round(median(times[i]!)),
        overBaselineMs: round(best - baselineBest),
      })}\n`,
    );
  }
}
