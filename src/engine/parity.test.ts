/**
 * Parity with llama.cpp (node-llama-cpp) on the same GGUF files: token ids, logits of the bundled base model and
 * of a freshly trained adapter (≤ 1e-3 max abs on F32), and greedy generation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterToGguf } from './adapter-gguf.js';
import { bundledBaseModel } from './bundled.js';
import { createLlamaModel, type LlamaModel } from './inference.js';
import { startJaxBackend } from './jax-backend.js';
import { type BaseModelFile, baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
import { createLoraTrainer } from './lora-trainer.js';
import { defaultAdamW } from './optim.js';
import { createLlamaRuntime, type LlamaRuntime } from './runtime.js';
import { fuzzStrings, tinyConfig, variedTexts } from './test-support/fixtures.js';
import { createTokenizer, type Tokenizer, trainBpe } from './tokenizer.js';
import { initLlamaWeights, initLoraWeights, type LoraWeights } from './weights.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-parity-'));
const evalText =
  'river (noun): a large natural stream of water emptying into an ocean, lake, or other body of water. ' +
  'Examples: "they pitched their tent beside the river".';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function argmaxRows(x: Float32Array, vocab: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / vocab; r++) {
    let best = 0;
    for (let v = 1; v < vocab; v++) if (x[r * vocab + v]! > x[r * vocab + best]!) best = v;
    out.push(best);
  }
  return out;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bundled base model vs llama.cpp', () => {
  let file: BaseModelFile;
  let tok: Tokenizer;
  let runtime: LlamaRuntime;
  let model: LlamaModel;
  let adapter: LoraWeights;
  let adapterPath: string;
  let ids: number[];

  beforeAll(async () => {
    await startJaxBackend();
    file = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
    tok = createTokenizer(file.vocab);
    runtime = await createLlamaRuntime({ modelPath: bundledBaseModel.path, threads: 1 });
    model = createLlamaModel(file.weights);
    ids = tok.encode(evalText);
    // A freshly trained adapter: a few LoRA steps on one sentence (B starts at 0, so training must move it).
    const text = tok.encode(`${evalText} ${evalText}`);
    const T = 32;
    const trainer = createLoraTrainer({
      base: file.weights,
      lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] },
      seed: 1,
      optimizer: { ...defaultAdamW, lr: 5e-2 },
      schedule: { warmupSteps: 0, totalSteps: 4, minLrRatio: 1 },
    });
    for (let s = 0; s < 4; s++) {
      await trainer.step({
        batchSize: 1,
        seqLen: T,
        inputs: Int32Array.from(text.slice(s, s + T)),
        targets: Int32Array.from(text.slice(s + 1, s + T + 1)),
      });
    }
    adapter = await trainer.adapter();
    trainer.dispose();
    adapterPath = join(dir, 'adapter.gguf');
    writeFileSync(adapterPath, adapterToGguf(adapter, { name: 'parity' }));
  });

  afterAll(async () => {
    model?.dispose();
    await runtime?.dispose();
  });

  it('tokenizes exactly like llama.cpp on a varied corpus and fuzzed strings', () => {
    const corpus = [...variedTexts, evalText, ...fuzzStrings(300, 42)];
    const mismatches = corpus.filter((s) => JSON.stringify(tok.encode(s)) !== JSON.stringify(runtime.tokenize(s)));
    expect(mismatches).toEqual([]);
  });

  it('gives the same base logits (max abs diff ≤ 1e-3)', async () => {
    const ours = await model.logits(ids);
    const theirs = await runtime.logits(ids);
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-3);
    expect(argmaxRows(ours, file.weights.config.vocabSize)).toEqual(argmaxRows(theirs, file.weights.config.vocabSize));
  });

  it('gives the same logits through a freshly trained LoRA adapter, which changes them', async () => {
    const ours = await model.logits(ids, adapter);
    const theirs = await runtime.logits(ids, [{ path: adapterPath }]);
    expect(maxAbsDiff(ours, theirs)).toBeLessThanOrEqual(1e-3);
    expect(maxAbsDiff(ours, await model.logits(ids))).toBeGreaterThan(1e-2);
  });

  it('generates greedily the tokens our engine predicts', async () => {
    const prompt = tok.encode('dog (noun):');
    const gen = await runtime.generate({ prompt, maxTokens: 6, stopAtEos: false });
    const seq = [...prompt];
    for (let i = 0; i < 6; i++) {
      const logits = await model.logits(seq);
      seq.push(
        argmaxRows(logits.subarray(logits.length - file.weights.config.vocabSize), file.weights.config.vocabSize)[0]!,
      );
    }
    expect(gen.tokens).toEqual(seq.slice(prompt.length));
    expect(gen.text).toBe(tok.decode(gen.tokens));
    const a = await runtime.generate({ prompt: 'a small boat', maxTokens: 8, temperature: 0.9, seed: 3 });
    const b = await runtime.generate({ prompt: 'a small boat', maxTokens: 8, temperature: 0.9, seed: 3 });
    expect(a.tokens).toEqual(b.tokens);
  });
});

describe('tiny untied model vs llama.cpp', () => {
  it('agrees on base and adapter logits (output.weight path, GQA)', async () => {
    await startJaxBackend();
    const vocab = trainBpe(variedTexts, 300);
    const cfg = tinyConfig({ vocabSize: vocab.tokens.length, contextLength: 64 });
    const weights = initLlamaWeights(cfg, 7);
    const adapter = initLoraWeights(cfg, { rank: 2, alpha: 4, dropout: 0, targets: ['q', 'k', 'o', 'up'] }, 8, 0.2);
    const path = join(dir, 'tiny.gguf');
    const aPath = join(dir, 'tiny-adapter.gguf');
    writeFileSync(path, baseModelToGguf(weights, vocab, { name: 'tiny' }));
    writeFileSync(aPath, adapterToGguf(adapter, { name: 'tiny-adapter' }));
    const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
    const model = createLlamaModel(weights);
    const ids = createTokenizer(vocab).encode(variedTexts[1]!).slice(0, 40);
    expect(maxAbsDiff(await model.logits(ids), await runtime.logits(ids))).toBeLessThanOrEqual(1e-3);
    expect(
      maxAbsDiff(await model.logits(ids, adapter), await runtime.logits(ids, [{ path: aPath }])),
    ).toBeLessThanOrEqual(1e-3);
    model.dispose();
    await runtime.dispose();
  });

  it.each(['F16', 'Q8_0'] as const)(
    'reads the same %s file as llama.cpp: logits within 2% of their range, the same 32 greedy tokens',
    async (tensorType) => {
      const vocab = trainBpe(variedTexts, 300);
      // dim 64, not the fixture's 32: on CPUs with AMX/AVX-512 (Sapphire Rapids), llama.cpp's Q8_0 kernels return NaN
      // for rows of a single 32-value block (seen with node-llama-cpp 3.22.1); real models' rows are far longer.
      const cfg = tinyConfig({ vocabSize: vocab.tokens.length, contextLength: 64, dim: 64, ffnDim: 128 });
      const path = join(dir, `tiny-${tensorType}.gguf`);
      writeFileSync(path, baseModelToGguf(initLlamaWeights(cfg, 7), vocab, { name: tensorType, tensorType }));
      // The engine reads the file's weights dequantised; llama.cpp also rounds activations (F16 / Q8 blocks).
      const dequantised = baseModelFromGguf(new Uint8Array(readFileSync(path))).weights;
      const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
      const model = createLlamaModel(dequantised);
      const ids = createTokenizer(vocab).encode(variedTexts[1]!).slice(0, 24);
      const ours = await model.logits(ids);
      let scale = 0;
      for (const v of ours) scale = Math.max(scale, Math.abs(v));
      expect(maxAbsDiff(ours, await runtime.logits(ids))).toBeLessThanOrEqual(0.02 * scale);
      const gen = await runtime.generate({ prompt: ids, maxTokens: 32, stopAtEos: false });
      const seq = [...ids];
      for (let i = 0; i < 32; i++) {
        const logits = await model.logits(seq);
        seq.push(argmaxRows(logits.subarray(logits.length - cfg.vocabSize), cfg.vocabSize)[0]!);
      }
      expect(gen.tokens).toEqual(seq.slice(ids.length));
      model.dispose();
      await runtime.dispose();
    },
  );
});

describe('llama.cpp runtime errors', () => {
  it('reports unloadable files and refuses more than two threads', async () => {
    const bad = join(dir, 'truncated.gguf');
    writeFileSync(bad, readFileSync(bundledBaseModel.path).subarray(0, 100_000));
    await expect(createLlamaRuntime({ modelPath: bad })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: 'llama.cpp could not load the model file',
    });
    await expect(createLlamaRuntime({ modelPath: bundledBaseModel.path, threads: 4 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'threads must be 1 or 2',
    });
  });
});
