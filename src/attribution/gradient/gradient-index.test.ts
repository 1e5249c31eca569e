import { createHash } from 'node:crypto';
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
  gradientIndexSettings,
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

/** The file with its header JSON edited and everything after it (arrays, checksum) rewritten to match, as a foreign writer would. */
function withHeader(bytes: Uint8Array, edit: (header: Record<string, unknown>) => unknown): Uint8Array {
  const file = Buffer.from(bytes);
  const pad = (n: number) => (8 - (n % 8)) % 8;
  const length = file.readUInt32LE(8);
  const arrays = file.subarray(12 + length + pad(12 + length), file.length - 32);
  const json = Buffer.from(JSON.stringify(edit(JSON.parse(file.subarray(12, 12 + length).toString()))));
  const prefix = Buffer.alloc(12);
  prefix.write('TRBGRAD1');
  prefix.writeUInt32LE(json.length, 8);
  const body = Buffer.concat([prefix, json, Buffer.alloc(pad(12 + json.length)), arrays]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

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

  it('reads its header with the protocol schema: another version, or a malformed header, is refused', () => {
    const bytes = encodeGradientIndex(index);
    // withHeader gives a Node Buffer, whose slice shares memory: the arrays must still be copies.
    expect(encodeGradientIndex(decodeGradientIndex(withHeader(bytes, (h) => h)))).toEqual(bytes);
    const refusal = (edit: (h: Record<string, unknown>) => unknown) => {
      const e = errorOf(() => decodeGradientIndex(withHeader(bytes, edit)));
      expect(e.code).toBe('INDEX_INVALID');
      return e.message;
    };
    expect(refusal((h) => ({ ...h, version: 2 }))).toBe(
      'Gradient index format version 2 is not supported (expected 1)',
    );
    expect(refusal((h) => ({ ...h, version: 2, examples: 'none' }))).toBe(
      'Gradient index format version 2 is not supported (expected 1)',
    );
    const malformed = 'Gradient index file is corrupt: its header is malformed';
    expect(refusal((h) => ({ ...h, examples: 'none' }))).toBe(malformed);
    expect(refusal((h) => ({ ...h, projection: { dim: 0, seed: 5, nonzeros: 4 } }))).toBe(malformed);
    expect(refusal((h) => ({ ...h, model: { base: 'b', adapter: 'a' } }))).toBe(malformed);
    expect(refusal((h) => ({ ...h, lambda: '0.1' }))).toBe(malformed);
    expect(refusal(() => null)).toBe(malformed);
  });

  it('an index built without settings gets the one settings object the factory and the quality bench share', async () => {
    const defaulted = await buildGradientIndex({ model, examples: examples.slice(0, 3), seed: 5 });
    expect(defaulted.projection).toEqual({
      dim: gradientIndexSettings.projectionDim,
      seed: 5,
      nonzeros: gradientIndexSettings.nonzeros,
    });
    expect(defaulted.damping).toBe(gradientIndexSettings.damping);
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
