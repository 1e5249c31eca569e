/**
 * Attribution quality of what Proof of Attribution pays, in one seeded run (see attribution-quality/*.ts):
 *  - precision@1 of the top-paid contributor on the planted (verbatim), paraphrased and hard sets, per method, over
 *    5 seeds (a model fine-tuned per seed), with a 95% bootstrap interval resampling (seed, query) pairs;
 *  - the linear datamodeling score of every method on signed and on paid weights (100 retrained halves of 64 rows,
 *    64 queries, bootstrap over queries; a random null over 100 draws);
 *  - the gradient coverage the paid path gives for unrelated questions and mismatched answers (the noise floor).
 * The work runs in child processes on two workers (see `run`; jax-js computes on one thread each), merged here.
 * JSON lines on stdout, each group as soon as it is complete; stage times on stderr. `ATTRIBUTION_QUALITY_QUICK=1` runs a small version (2 seeds,
 * 4 subsets) for trying changes; its numbers are not the published ones. `ATTRIBUTION_QUALITY_CACHE=DIR` keeps the
 * LDS retrains' losses there, so an interrupted run resumes (and `ATTRIBUTION_QUALITY_PART=lds` with
 * `ATTRIBUTION_QUALITY_REVERSE=1` adds a process retraining from the last subset; `ATTRIBUTION_QUALITY_CACHED_ONLY=1`
 * reports over the subsets already retrained, `ATTRIBUTION_QUALITY_SUBSETS=N` over the first N).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradientIndexSettings } from '../src/attribution/index.js';
import { baseModelFromGguf, bundledBaseModel, loraTargets, startJaxBackend } from '../src/engine/index.js';
import { ldsSuite } from './attribution-quality/lds.js';
import { type PrecisionRaw, precisionLines, precisionRaw } from './attribution-quality/precision.js';

/** The published run's seed; `ATTRIBUTION_QUALITY_SEED` draws other data sets (to check a setting chosen on these). */
const SEED = Number(process.env.ATTRIBUTION_QUALITY_SEED ?? 20240611);
const quick = process.env.ATTRIBUTION_QUALITY_QUICK === '1';
/** Set in a child: "lds" or "precision:<seed offsets>". */
const PART = 'ATTRIBUTION_QUALITY_PART';

const t0 = performance.now();
const log = (o: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ ...o, elapsed: Math.round((performance.now() - t0) / 1000) })}\n`);

/** One part in this process; its result is the last line of stdout. */
async function runPart(part: string): Promise<void> {
  if (part !== 'lds' && !/^precision:\d+(,\d+)*$/.test(part))
    throw new Error(`${PART} must be "lds" or "precision:<seed offsets, comma-separated>", not "${part}"`);
  const backend = await startJaxBackend();
  try {
    const file = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
    const base = { weights: file.weights, vocab: file.vocab };
    let result: unknown;
    if (part === 'lds') {
      result = await ldsSuite(base, {
        seed: SEED,
        subsets: Number(process.env.ATTRIBUTION_QUALITY_SUBSETS ?? (quick ? 4 : 100)),
        nullDraws: 100,
        ...(process.env.ATTRIBUTION_QUALITY_CACHE ? { cacheDir: process.env.ATTRIBUTION_QUALITY_CACHE } : {}),
        reverse: process.env.ATTRIBUTION_QUALITY_REVERSE === '1',
        cachedOnly: process.env.ATTRIBUTION_QUALITY_CACHED_ONLY === '1',
        // Batches of 16, 6 epochs: a retrain of 32 rows is 12 steps, so 100 of them fit the suite's time.
        train: { lora: { rank: 4, alpha: 8, dropout: 0, targets: loraTargets }, epochs: 6, lr: 5e-3, batchSize: 16 },
        log,
      });
    } else {
      const seeds = (part.split(':')[1] ?? '').split(',').map((o) => SEED + Number(o));
      result = await precisionRaw(base, {
        seeds,
        train: { lora: { rank: 8, alpha: 16, dropout: 0, targets: loraTargets }, epochs: 12, lr: 3e-3, batchSize: 8 },
        log,
      });
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await backend.stop();
  }
}

/** A part running in a child process (this script again, its stderr passed through); `result` is its last line. */
function spawnPart(part: string, env: Record<string, string> = {}): { result: Promise<unknown>; stop(): void } {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, ...env, [PART]: part },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || last === '') reject(new Error(`attribution-quality part ${part} exited with ${code}`));
      else resolve(JSON.parse(last));
    });
  });
  return { result, stop: () => child.kill('SIGTERM') };
}

/**
 * Two workers, one per core, each a queue of child processes: one starts the LDS part (it scores the full model,
 * then retrains subsets first to last), the other takes the precision seeds one by one, and whichever is free takes
 * the next seed. When no seed is left and LDS is still running, the free worker retrains subsets last to first
 * through the shared cache folder, and is stopped when the first LDS process has them all. Each group of lines is
 * printed as soon as it is complete, so a run cut short keeps what finished.
 */
export async function run(): Promise<void> {
  const part = process.env[PART];
  if (part) return runPart(part);
  const own = process.env.ATTRIBUTION_QUALITY_CACHE ? undefined : mkdtempSync(join(tmpdir(), 'attribution-quality-'));
  const cache = { ATTRIBUTION_QUALITY_CACHE: process.env.ATTRIBUTION_QUALITY_CACHE ?? (own as string) };
  const model = `${bundledBaseModel.name} + LoRA`;
  const out = (o: unknown) =>
    process.stdout.write(`${JSON.stringify({ ...(o as object), model, gradientIndex: gradientIndexSettings })}\n`);
  const seeds = quick ? [0, 1] : [0, 1, 2, 3, 4];
  const precision: PrecisionRaw[] = [];
  let ldsRunning = true;
  let helper: ReturnType<typeof spawnPart> | undefined;
  const takeSeeds = async () => {
    for (let o = seeds.shift(); o !== undefined; o = seeds.shift())
      precision.push((await spawnPart(`precision:${o}`).result) as PrecisionRaw);
  };
  const lds = async () => {
    const lines = (await spawnPart('lds', cache).result) as Record<string, unknown>[];
    ldsRunning = false;
    helper?.stop();
    for (const line of lines) out(line);
    await takeSeeds();
  };
  const seedsThenHelp = async () => {
    await takeSeeds();
    if (!ldsRunning) return;
    helper = spawnPart('lds', { ...cache, ATTRIBUTION_QUALITY_REVERSE: '1' });
    await helper.result.catch(() => undefined);
  };
  try {
    await Promise.all([lds(), seedsThenHelp()]);
    precision.sort((a, b) => (a.seeds[0] ?? 0) - (b.seeds[0] ?? 0));
    for (const line of precisionLines(precision)) out(line);
  } finally {
    if (own) rmSync(own, { recursive: true, force: true });
  }
  log({ stage: 'done', seconds: Math.round((performance.now() - t0) / 1000) });
}
