import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { asArchitecture } from '../../test/fixtures/gguf.js';
import { adapterToGguf } from './adapter-gguf.js';
import { describeBaseModel } from './base-model-info.js';
import { countParams } from './config.js';
import { type GgufValue, ggmlType, ggufValueType } from './gguf.js';
import { ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import { baseModelToGguf } from './llama-gguf.js';
import { patchTensorType, tinyConfig, variedTexts } from './test-support/fixtures.js';
import { trainBpe } from './tokenizer.js';
import { initLlamaWeights, initLoraWeights } from './weights.js';

const cfg = tinyConfig();
const vocab = trainBpe(variedTexts, cfg.vocabSize);
const llama = baseModelToGguf(initLlamaWeights(cfg, 1), vocab, { name: 'tiny-llama' });

describe('describing a base model GGUF before it is registered', () => {
  it("reads a llama model's shape, size and types, and says the engine fine-tunes it", () => {
    const d = describeBaseModel(llama);
    expect(d).toMatchObject({ architecture: 'llama', name: 'tiny-llama', tokenizer: 'gpt2', tensorTypes: ['F32'] });
    expect(d.config).toEqual(cfg);
    expect(d.params).toBe(countParams(cfg));
    expect(d.fineTune).toEqual({ ok: true });
  });

  it('reads the shape of a qwen2-layout model from its own keys, and fine-tunes it', () => {
    const d = describeBaseModel(asArchitecture(llama, 'qwen2'));
    expect(d.architecture).toBe('qwen2');
    expect(d.config).toEqual({ ...cfg, architecture: 'qwen2' });
    expect(d.fineTune).toEqual({ ok: true });
  });

  it('names the pre-tokenizer when the engine would split words differently from llama.cpp', () => {
    const d = describeBaseModel(
      asArchitecture(llama, 'qwen2', [['tokenizer.ggml.pre', { type: ggufValueType.STRING, value: 'deepseek-llm' }]]),
    );
    expect(d.fineTune).toEqual({ ok: false, reason: expect.stringContaining('pre-tokenizer "deepseek-llm"') });
  });

  it('describes a K-quantised model from its header (no tensor is dequantised) and names the type it cannot train', () => {
    const q5k = patchTensorType(llama, 'blk.0.ffn_down.weight', 13, 2);
    const d = describeBaseModel(q5k);
    expect(d.tensorTypes).toEqual(['F32', 'Q5_K']);
    expect(d.fineTune).toEqual({ ok: false, reason: expect.stringContaining('Q5_K') });
  });

  it('refuses an architecture outside the llama family, by name', () => {
    const e = errorOf(() => describeBaseModel(asArchitecture(llama, 'bert')));
    expect(e.code).toBe('MODEL_UNSUPPORTED');
    expect(e.message).toContain('"bert"');
  });

  it('refuses a LoRA adapter offered as a base model', () => {
    const adapter = adapterToGguf(initLoraWeights(cfg, { rank: 2, alpha: 4, dropout: 0, targets: ['q'] }, 1), {
      name: 'a',
    });
    expect(errorOf(() => describeBaseModel(adapter)).message).toContain('adapter');
  });

  it('refuses a truncated file, saying where it ends', () => {
    const e = errorOf(() => describeBaseModel(llama.subarray(0, llama.length - 100)));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('truncated');
  });

  it('refuses a file whose metadata lacks the shape, naming the key', () => {
    const meta = [...readGguf(llama).metadata].filter(([k]) => k !== 'llama.block_count');
    const e = errorOf(() => describeBaseModel(writeGguf(meta, tensorsOf(llama))));
    expect(e.message).toContain('llama.block_count');
  });

  it('says a base too large for the engine is serve-only, from its header alone (a 7B shape, no tensor read)', () => {
    const seven: Record<string, number> = {
      'llama.embedding_length': 4096,
      'llama.block_count': 32,
      'llama.feed_forward_length': 14_336,
      'llama.attention.head_count': 32,
      'llama.attention.head_count_kv': 8,
      'llama.rope.dimension_count': 128,
    };
    const meta = [...readGguf(llama).metadata].map(([k, v]): [string, GgufValue] =>
      k in seven ? [k, { type: ggufValueType.UINT32, value: seven[k]! }] : [k, v],
    );
    const d = describeBaseModel(writeGguf(meta, []));
    expect(d.fineTune).toEqual({
      ok: false,
      reason: expect.stringMatching(/^serve-only: training it needs about .* GiB/),
    });
  });

  it('names RoPE scaling the engine does not compute (linear, YaRN, Llama 3.1 frequency factors): serve-only', () => {
    const yarn = writeGguf(
      [...readGguf(llama).metadata, ['llama.rope.scaling.type', { type: ggufValueType.STRING, value: 'yarn' }]],
      tensorsOf(llama),
    );
    expect(describeBaseModel(yarn).fineTune).toEqual({
      ok: false,
      reason: expect.stringContaining('RoPE scaling "yarn"'),
    });
    const freqs = writeGguf(
      [...readGguf(llama).metadata],
      [
        ...tensorsOf(llama),
        { name: 'rope_freqs.weight', shape: [4], type: ggmlType.F32, data: new Float32Array(4).fill(1) },
      ],
    );
    expect(describeBaseModel(freqs).fineTune).toEqual({
      ok: false,
      reason: expect.stringContaining('per-frequency factors (rope_freqs.weight)'),
    });
  });

  it('refuses a "mistral" architecture, saying Mistral models are converted as llama', () => {
    const e = errorOf(() => describeBaseModel(asArchitecture(llama, 'mistral')));
    expect(e.code).toBe('MODEL_UNSUPPORTED');
    expect(e.message).toContain('as "llama"');
  });

  it('reads a model with extra metadata it does not use', () => {
    const d = describeBaseModel(
      writeGguf(
        [...readGguf(llama).metadata, ['llama.note', { type: ggufValueType.FLOAT32, value: 0.5 }]],
        tensorsOf(llama),
      ),
    );
    expect(d.architecture).toBe('llama');
    expect(d.config.normEps).toBe(cfg.normEps);
  });
});

function tensorsOf(bytes: Uint8Array) {
  const f = readGguf(bytes);
  return f.tensors.map((t) => ({ ...ggufTensor(f, t.name), name: t.name, type: ggmlType.F32 }));
}
