/** Comparing the engine with llama.cpp on the same GGUF file (parity tests). */
import { expect } from 'vitest';
import { createLlamaModel } from '../inference.js';
import { baseModelFromGguf } from '../llama-gguf.js';
import { createLlamaRuntime } from '../runtime.js';
import { createTokenizer, type Vocabulary } from '../tokenizer.js';
import { variedTexts } from './fixtures.js';

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The index of the largest logit of each row of `[rows, vocab]`. */
export function argmaxRows(x: Float32Array, vocab: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / vocab; r++) {
    let best = 0;
    for (let v = 1; v < vocab; v++) if (x[r * vocab + v]! > x[r * vocab + best]!) best = v;
    out.push(best);
  }
  return out;
}

/**
 * The engine, reading a file's weights dequantised, and llama.cpp, computing on them as stored (and rounding
 * activations), agree: logits within 2% of their range, and the same 32 greedy tokens. The engine scores llama.cpp's
 * 32 tokens in one pass (teacher forcing), and must pick each of them, except at a near tie: where its own top two
 * are within 0.5% of the largest |logit|, rounding may swap them, which says nothing about the arithmetic; at most two
 * such steps are accepted.
 */
export async function expectQuantisedParity(path: string, bytes: Uint8Array, vocab: Vocabulary): Promise<void> {
  const weights = baseModelFromGguf(bytes).weights;
  const vocabSize = weights.config.vocabSize;
  const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
  const model = createLlamaModel(weights);
  try {
    const ids = createTokenizer(vocab).encode(variedTexts[1]!).slice(0, 24);
    const ours = await model.logits(ids);
    let scale = 0;
    for (const v of ours) scale = Math.max(scale, Math.abs(v));
    expect(maxAbsDiff(ours, await runtime.logits(ids))).toBeLessThanOrEqual(0.02 * scale);
    const gen = await runtime.generate({ prompt: ids, maxTokens: 32, stopAtEos: false });
    expect(gen.tokens).toHaveLength(32);
    const scored = await model.logits([...ids, ...gen.tokens.slice(0, -1)]);
    const steps = gen.tokens.map((token, i) => {
      const row = scored.subarray((ids.length - 1 + i) * vocabSize, (ids.length + i) * vocabSize);
      const best = argmaxRows(row, vocabSize)[0]!;
      return { step: i, token, best, gap: row[best]! - row[token]! };
    });
    const differing = steps.filter((s) => s.best !== s.token);
    expect(differing.filter((s) => s.gap > 0.005 * scale)).toEqual([]);
    expect(differing.length).toBeLessThanOrEqual(2);
  } finally {
    model.dispose();
    await runtime.dispose();
  }
}
