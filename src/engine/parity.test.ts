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
import { f32ToF16 } from './f16.js';
import { ggmlBlocks, ggmlType } from './gguf.js';
import { ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import { createLlamaModel, type LlamaModel } from './inference.js';
import { startJaxBackend } from './jax-backend.js';
import { type BaseModelFile, baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
import { createLoraTrainer } from './lora-trainer.js';
import { defaultAdamW } from './optim.js';
import { Rng } from './rng.js';
import { createLlamaRuntime, type LlamaRuntime } from './runtime.js';
import { fuzzStrings, tinyConfig, variedTexts } from './test-support/fixtures.js';
import { argmaxRows, expectQuantisedParity, maxAbsDiff } from './test-support/parity.js';
import { createTokenizer, type Tokenizer, trainBpe } from './tokenizer.js';
import { initLlamaWeights, initLoraWeights, type LoraWeights } from './weights.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-parity-'));
const evalText =
  'river (noun): a large natural stream of water emptying into an ocean, lake, or other body of water. ' +
  'Examples: "they pitched their tent beside the river".';

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
      await expectQuantisedParity(path, new Uint8Array(readFileSync(path)), vocab);
    },
  );
});

/**
 * Quantised types the factory trains on, dequantised: no quantiser is needed to test them, since any bytes are valid
 * blocks. The FFN down projections of a small model get random blocks (scales kept small), and the engine, reading
 * the file dequantised, must agree with llama.cpp, which computes on the blocks (and quantises activations).
 */
describe('dequantised K-quant, Q4_0 and BF16 weights vs llama.cpp', () => {
  // Block sizes come from ggmlBlocks; each writer fills one block with random bytes, then sets its scales small.
  const blockWriters: Record<string, { type: number; fill(b: DataView, rng: Rng): void }> = {
    Q4_0: { type: 2, fill: (b, rng) => fillBytes(b, rng, 2, 18, () => b.setUint16(0, f32ToF16(0.01), true)) },
    Q4_K: {
      type: 12,
      fill: (b, rng) =>
        fillBytes(b, rng, 4, 144, () => {
          b.setUint16(0, f32ToF16(0.0002), true);
          b.setUint16(2, f32ToF16(0.0001), true);
        }),
    },
    Q6_K: {
      type: 14,
      fill: (b, rng) =>
        fillBytes(b, rng, 0, 208, () => {
          for (let i = 192; i < 208; i++) b.setInt8(i, rng.int(17) - 8);
          b.setUint16(208, f32ToF16(0.0006), true);
        }),
    },
    BF16: {
      type: 30,
      fill: (b, rng) => {
        const word = new DataView(new ArrayBuffer(4));
        word.setFloat32(0, (rng.uniform() - 0.5) * 0.1);
        b.setUint16(0, word.getUint32(0) >>> 16, true);
      },
    },
  };

  it.each(Object.keys(blockWriters))(
    'reads %s as llama.cpp does: logits within 2% of their range, the same 32 greedy tokens',
    async (name) => {
      const w = blockWriters[name]!;
      const block = ggmlBlocks[w.type]!;
      const vocab = trainBpe(variedTexts, 300);
      const cfg = tinyConfig({ vocabSize: vocab.tokens.length, contextLength: 64, dim: 64, ffnDim: 256 });
      // The same model with its FFN down projections re-encoded as random blocks of the type, laid out as llama.cpp
      // expects (tensors contiguous, each its type's size).
      const f32 = readGguf(baseModelToGguf(initLlamaWeights(cfg, 7), vocab, { name }));
      const rng = new Rng(11);
      const bytes = writeGguf(
        [...f32.metadata],
        f32.tensors.map((t) => {
          if (!t.name.endsWith('ffn_down.weight'))
            return { ...ggufTensor(f32, t.name), name: t.name, type: ggmlType.F32 };
          const blocks = (cfg.dim * cfg.ffnDim) / block.values;
          const raw = new Uint8Array(blocks * block.bytes);
          for (let k = 0; k < blocks; k++) w.fill(new DataView(raw.buffer, k * block.bytes, block.bytes), rng);
          return { name: t.name, shape: t.shape, type: w.type, bytes: raw };
        }),
      );
      const path = join(dir, `tiny-${name}.gguf`);
      writeFileSync(path, bytes);
      await expectQuantisedParity(path, bytes, vocab);
    },
  );
});

/** Random bytes in [from, to) of a block, then `fixed` sets its scales. */
function fillBytes(b: DataView, rng: Rng, from: number, to: number, fixed: () => void): void {
  for (let i = from; i < to; i++) b.setUint8(i, rng.int(256));
  fixed();
}

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
