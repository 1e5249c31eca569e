/**
 * Attribution quality of what Proof of Attribution pays, in one seeded run (see attribution-quality/*.ts):
 *  - precision@1 of the top-paid contributor on the planted (verbatim), paraphrased and hard sets, per method, over
 *    5 seeds (a model fine-tuned per seed), with a 95% bootstrap interval resampling (seed, query) pairs;
 *  - the linear datamodeling score of every method on signed and on paid weights (100 retrained halves of 64 rows,
 *    64 queries, bootstrap over queries; a random null over 100 draws);
 *  - the gradient coverage the paid path gives for unrelated questions and mismatched answers (the noise floor).
 * The work runs in four child processes (seeds 1–2, 3–4, 5, and LDS; jax-js computes on one thread each), merged
 * here. JSON lines on stdout; stage times on stderr. `ATTRIBUTION_QUALITY_QUICK=1` runs a small version (2 seeds,
 * 4 subsets) for trying changes; its numbers are not the published ones. `ATTRIBUTION_QUALITY_CACHE=DIR` keeps the
 * LDS retrains' losses there, so an interrupted run resumes (and `ATTRIBUTION_QUALITY_PART=lds` with
 * `ATTRIBUTION_QUALITY_REVERSE=1` adds a process retraining from the last subset; `ATTRIBUTION_QUALITY_CACHED_ONLY=1`
 * reports over the subsets already retrained, `ATTRIBUTION_QUALITY_SUBSETS=N` over the first N).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gradientIndexSettings } from '../src/attribution/index.js';
import { baseModelFromGguf, bundledBaseModel, loraTargets, startJaxBackend } from '../src/engine/index.js';
import { ldsSuite } from './attribution-quality/lds.js';
import { type PrecisionRaw, precisionLines, precisionRaw } from './attribution-quality/precision.js';

const SEED = 20240611;
const quick = process.env.ATTRIBUTION_QUALITY_QUICK === '1';
/** Set in a child: "lds" or "precision:<seed offsets>". */
const PART = 'ATTRIBUTION_QUALITY_PART';
const parts = quick ? ['precision:0', 'precision:1', 'lds'] : ['precision:0,1', 'precision:2,3', 'precision:4', 'lds'];

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

/** Runs `part` in a child process (this script again), its stderr passed through; resolves to its result. */
function spawnPart(part: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, [PART]: part },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
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
}

export async function run(): Promise<void> {
  const part = process.env[PART];
  if (part) return runPart(part);
  const results = await Promise.all(parts.map(spawnPart));
  const model = `${bundledBaseModel.name} + LoRA`;
  const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const precision = results.filter((_, i) => parts[i] !== 'lds') as PrecisionRaw[];
  for (const line of precisionLines(precision)) out({ ...line, model, gradientIndex: gradientIndexSettings });
  for (const line of results[parts.indexOf('lds')] as Record<string, unknown>[])
    out({ ...line, model, gradientIndex: gradientIndexSettings });
  log({ stage: 'done', seconds: Math.round((performance.now() - t0) / 1000) });
}
