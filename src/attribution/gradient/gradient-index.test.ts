import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../../test/fixtures/errors.js';
import { initLlamaWeights, initLoraWeights, type LlamaConfig, Rng } from '../../engine/index.js';
import { decodeGradientIndex, encodeGradientIndex, loadGradientIndex, saveGradientIndex } from './format.js';
import {
  buildGradientIndex,
  createInfluenceScorer,
  type GradientExample,
  type GradientModel,
  gradientInfluence,
  positiveInfluenceByContributor,
} from './gradient-index.js';

const cfg: LlamaConfig = {
  vocabSize: 48,
  dim: 32,
  nLayers: 1,
  nHeads: 2,
  nKvHeads: 1,
  ffnDim: 64,
  contextLength: 32,
  ropeTheta: 10000,
  normEps: 1e-5,
  tieEmbeddings: true,
};
const lora = { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'down'] as const };
const model: GradientModel = {
  base: initLlamaWeights(cfg, 1),
  adapter: initLoraWeights(cfg, { ...lora, targets: [...lora.targets] }, 2, 0.2),
  tokenizer: 'test-tokenizer',
};

// Ten distinct random sequences from ten contributors; the query repeats example 6's sequence.
const rng = new Rng(11);
const examples: GradientExample[] = Array.from({ length: 10 }, (_, i) => ({
  id: `row-${i}`,
  contributor: `contributor-${i}`,
  tokens: Array.from({ length: 12 + (i % 3) }, () => rng.int(cfg.vocabSize)),
}));

const dir = mkdtempSync(join(tmpdir(), 'gradient-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gradient index', async () => {
  const index = await buildGradientIndex({ model, examples, projectionDim: 64, seed: 5, damping: 0.1, batchSize: 4 });

  it('ranks the planted example first, and only positive influence earns', async () => {
    const scorer = createInfluenceScorer(index, model);
    const [g] = await scorer.gradient([{ tokens: examples[6]!.tokens }]);
    const [t] = await scorer.tracin([{ tokens: examples[6]!.tokens }]);
    scorer.dispose();
    const best = (s: Float64Array) => s.indexOf(Math.max(...s));
    expect(best(g!)).toBe(6);
    expect(best(t!)).toBe(6);
    const shares = positiveInfluenceByContributor(index, g!);
    expect(shares[0]!.contributor).toBe('contributor-6');
    expect(shares.every((s) => s.score > 0)).toBe(true);
  });

  it('is deterministic: a rebuild gives the same bytes', async () => {
    const again = await buildGradientIndex({ model, examples, projectionDim: 64, seed: 5, damping: 0.1, batchSize: 4 });
    expect(Buffer.from(encodeGradientIndex(again)).equals(Buffer.from(encodeGradientIndex(index)))).toBe(true);
  });

  it('round-trips through its file, scores included', () => {
    saveGradientIndex(index, dir);
    const loaded = loadGradientIndex(dir);
    expect(Buffer.from(encodeGradientIndex(loaded)).equals(Buffer.from(encodeGradientIndex(index)))).toBe(true);
    const q = index.features.slice(0, 64);
    expect(Array.from(gradientInfluence(loaded, q))).toEqual(Array.from(gradientInfluence(index, q)));
    expect(loaded.examples).toEqual(index.examples);
    expect(loaded.model).toEqual(index.model);
  });

  it('detects corruption, truncation and a missing file', () => {
    const bytes = encodeGradientIndex(index);
    const flipped = bytes.slice();
    flipped[bytes.length - 100]! ^= 1;
    let e = errorOf(() => decodeGradientIndex(flipped));
    expect(e.code).toBe('INDEX_INVALID');
    expect(e.message).toBe('Gradient index file is corrupt: checksum mismatch');
    e = errorOf(() => decodeGradientIndex(bytes.subarray(0, bytes.length - 8)));
    expect(e.message).toBe(
      `Gradient index file is truncated: expected ${bytes.length} bytes, found ${bytes.length - 8}`,
    );
    e = errorOf(() => decodeGradientIndex(bytes.subarray(0, 20)));
    expect(e.message).toBe('Gradient index file is truncated: 20 bytes');
    const bad = bytes.slice();
    bad[0] = 0;
    expect(errorOf(() => decodeGradientIndex(bad)).message).toBe(
      'Gradient index file is not a gradient index (bad magic)',
    );
    writeFileSync(join(dir, 'gradient-index.bin'), bytes.subarray(0, bytes.length - 1));
    expect(errorOf(() => loadGradientIndex(dir)).message).toBe(
      `Gradient index file is truncated: expected ${bytes.length} bytes, found ${bytes.length - 1}`,
    );
    expect(readFileSync(join(dir, 'gradient-index.bin')).length).toBe(bytes.length - 1);
    const missing = join(dir, 'nowhere');
    expect(errorOf(() => loadGradientIndex(missing)).message).toBe(
      `Gradient index file ${join(missing, 'gradient-index.bin')} is missing`,
    );
  });

  it('refuses a query model or tokenizer other than the one it was built for', () => {
    const other = { ...model, adapter: initLoraWeights(cfg, { ...lora, targets: [...lora.targets] }, 3, 0.2) };
    const e = errorOf(() => createInfluenceScorer(index, other));
    expect(e.code).toBe('INDEX_INVALID');
    expect(e.message).toBe('The gradient index was built for another adapter model');
    expect(errorOf(() => createInfluenceScorer(index, { ...model, tokenizer: 'other' })).message).toBe(
      'The gradient index was built with another tokenizer',
    );
  });
});
