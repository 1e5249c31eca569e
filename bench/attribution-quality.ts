/**
 * Attribution quality of what Proof of Attribution pays, in one seeded run (see attribution-quality/*.ts):
 *  - precision@1 of the top-paid contributor on the planted (verbatim), paraphrased and hard sets, per method, over
 *    5 seeds (a model fine-tuned per seed), with a 95% bootstrap interval resampling (seed, query) pairs;
 *  - the linear datamodeling score of every method on signed and on paid weights (100 retrained halves of 64 rows,
 *    64 queries, bootstrap over queries; a random null over 100 draws);
 *  - the gradient coverage the paid path gives for unrelated questions and mismatched answers (the noise floor).
 * JSON lines on stdout; stage times on stderr. `ATTRIBUTION_QUALITY_QUICK=1` runs a small version (2 seeds,
 * 4 subsets) for trying changes, and `ATTRIBUTION_QUALITY_ONLY=precision|lds` one part; their numbers are not the
 * published ones.
 */
import { readFileSync } from 'node:fs';
import { gradientIndexSettings } from '../src/attribution/index.js';
import { baseModelFromGguf, bundledBaseModel, loraTargets, startJaxBackend } from '../src/engine/index.js';
import { ldsSuite } from './attribution-quality/lds.js';
import { precisionSuite } from './attribution-quality/precision.js';

const SEED = 20240611;
const quick = process.env.ATTRIBUTION_QUALITY_QUICK === '1';
const only = process.env.ATTRIBUTION_QUALITY_ONLY;

export async function run(): Promise<void> {
  const t0 = performance.now();
  const log = (o: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ ...o, elapsed: Math.round((performance.now() - t0) / 1000) })}\n`);
  const out = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const backend = await startJaxBackend();
  try {
    const file = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
    const base = { weights: file.weights, vocab: file.vocab };
    const model = `${bundledBaseModel.name} + LoRA`;
    const seeds = Array.from({ length: quick ? 2 : 5 }, (_, i) => SEED + i);
    if (only !== 'lds') {
      const precision = await precisionSuite(base, {
        seeds,
        train: { lora: { rank: 8, alpha: 16, dropout: 0, targets: loraTargets }, epochs: 12, lr: 3e-3, batchSize: 8 },
        log,
      });
      for (const line of precision.lines) out({ ...line, model, gradientIndex: gradientIndexSettings });
      for (const line of precision.noise) out(line);
    }
    if (only !== 'precision') {
      // Batches of 16, 6 epochs: a retrain of 32 rows is 12 steps, so 100 of them fit the suite's time.
      const lds = await ldsSuite(base, {
        seed: SEED,
        subsets: quick ? 4 : 100,
        nullDraws: 100,
        train: { lora: { rank: 4, alpha: 8, dropout: 0, targets: loraTargets }, epochs: 6, lr: 5e-3, batchSize: 16 },
        log,
      });
      for (const line of lds) out({ ...line, model, gradientIndex: gradientIndexSettings });
    }
    log({ stage: 'done', seconds: Math.round((performance.now() - t0) / 1000) });
  } finally {
    await backend.stop();
  }
}
