/**
 * The architectures a user brings, as llama.cpp's converters lay them out, read by the engine and by llama.cpp from
 * the same synthetic file (random weights, real tensor names and metadata): F32 logits within 1e-3, with and without
 * a LoRA adapter trained here or imported from PEFT files; F16, Q8_0 and Q4_K within 2% of the logits' range with the
 * same 32 greedy tokens.
 * - llama: SmolLM / Llama 3.2 shapes (tied embeddings, GQA);
 * - mistral: Mistral's GGUFs say `llama`: untied output, 4:1 GQA, RoPE base 1e6;
 * - qwen2: q/k/v biases, q/k stored for NEOX RoPE, tied embeddings, RoPE base 1e6.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peftAdapterFiles } from '../../test/fixtures/peft.js';
import { adapterFromGguf, adapterToGguf } from './adapter-gguf.js';
import type { LlamaConfig } from './config.js';
import { readGguf } from './gguf-read.js';
import { createLlamaModel } from './inference.js';
import { startJaxBackend } from './jax-backend.js';
import { baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
import { peftToGgufAdapter } from './peft.js';
import { createLlamaRuntime } from './runtime.js';
import { variedTexts } from './test-support/fixtures.js';
import { expectQuantisedParity, maxAbsDiff } from './test-support/parity.js';
import { createTokenizer, trainBpe } from './tokenizer.js';
import { initLlamaWeights, initLoraWeights } from './weights.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-layouts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const vocab = trainBpe(variedTexts, 300);

// dim 256 so that every matrix's rows are whole Q4_K blocks (256 values), as in real models.
const common = { vocabSize: vocab.tokens.length, dim: 256, nLayers: 2, ffnDim: 512, contextLength: 64, normEps: 1e-5 };
const layouts: Record<string, LlamaConfig> = {
  llama: { ...common, nHeads: 4, nKvHeads: 2, ropeTheta: 10000, tieEmbeddings: true },
  mistral: { ...common, nHeads: 8, nKvHeads: 2, ropeTheta: 1e6, tieEmbeddings: false },
  qwen2: { ...common, architecture: 'qwen2', nHeads: 4, nKvHeads: 2, ropeTheta: 1e6, tieEmbeddings: true },
};

beforeAll(() => startJaxBackend());

describe.each(Object.keys(layouts))('%s layout vs llama.cpp', (layout) => {
  const config = layouts[layout]!;
  const weights = initLlamaWeights(config, 5);

  it('round-trips through its GGUF file (the architecture, biases and q/k order come back as written)', () => {
    const bytes = baseModelToGguf(weights, vocab, { name: layout });
    expect(readGguf(bytes).metadata.get('general.architecture')?.value).toBe(config.architecture ?? 'llama');
    const back = baseModelFromGguf(bytes).weights;
    expect(back.config).toEqual(config);
    expect(back.layers[1]).toEqual(weights.layers[1]);
    if (layout === 'qwen2') expect(back.layers[0]?.qBias).toBeDefined();
  });

  it('gives the same F32 logits (≤ 1e-3), and the same through a LoRA adapter that changes them', async () => {
    const path = join(dir, `${layout}.gguf`);
    const adapterPath = join(dir, `${layout}-adapter.gguf`);
    writeFileSync(path, baseModelToGguf(weights, vocab, { name: layout }));
    const lora = { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const };
    const adapter = initLoraWeights(config, { ...lora, targets: [...lora.targets] }, 6, 0.05);
    const adapterBytes = adapterToGguf(adapter, { name: `${layout}-adapter`, base: config });
    writeFileSync(adapterPath, adapterBytes);
    expect(adapterFromGguf(adapterBytes, config)).toEqual(adapter);
    const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
    const model = createLlamaModel(weights);
    try {
      const ids = createTokenizer(vocab).encode(variedTexts[2]!).slice(0, 40);
      const base = await model.logits(ids);
      expect(maxAbsDiff(base, await runtime.logits(ids))).toBeLessThanOrEqual(1e-3);
      const adapted = await model.logits(ids, adapter);
      expect(maxAbsDiff(adapted, await runtime.logits(ids, [{ path: adapterPath }]))).toBeLessThanOrEqual(1e-3);
      expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-2);
    } finally {
      model.dispose();
      await runtime.dispose();
    }
  });

  it('serves a PEFT adapter (HF layout) imported for it as the engine computes it: logits within 1e-3', async () => {
    const path = join(dir, `${layout}-peft-base.gguf`);
    const adapterPath = join(dir, `${layout}-peft.gguf`);
    writeFileSync(path, baseModelToGguf(weights, vocab, { name: layout }));
    const trained = initLoraWeights(
      config,
      { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'k', 'v', 'down'] },
      9,
      0.05,
    );
    const files = peftAdapterFiles(trained, config);
    const imported = peftToGgufAdapter({ ...files, base: config, name: `${layout}-peft` });
    expect(imported.adapter.layers).toEqual(trained.layers);
    writeFileSync(adapterPath, imported.gguf);
    const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
    const model = createLlamaModel(weights);
    try {
      const ids = createTokenizer(vocab).encode(variedTexts[3]!).slice(0, 40);
      const ours = await model.logits(ids, imported.adapter);
      expect(maxAbsDiff(ours, await runtime.logits(ids, [{ path: adapterPath }]))).toBeLessThanOrEqual(1e-3);
      expect(maxAbsDiff(ours, await model.logits(ids))).toBeGreaterThan(1e-2);
    } finally {
      model.dispose();
      await runtime.dispose();
    }
  });

  it.each(['F16', 'Q8_0', 'Q4_K'] as const)(
    'reads the same %s file as llama.cpp: logits within 2% of their range, the same 32 greedy tokens',
    async (tensorType) => {
      const path = join(dir, `${layout}-${tensorType}.gguf`);
      const bytes = baseModelToGguf(weights, vocab, { name: `${layout}-${tensorType}`, tensorType });
      writeFileSync(path, bytes);
      await expectQuantisedParity(path, bytes, vocab);
    },
  );
});
