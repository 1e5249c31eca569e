import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { peftAdapterFiles } from '../../test/fixtures/peft.js';
import { adapterFromGguf, adapterToGguf } from './adapter-gguf.js';
import { ggmlType, kv } from './gguf.js';
import { ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import { artifactHash } from './hash.js';
import { baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
import { importPeftAdapter, peftToGgufAdapter } from './peft.js';
import { Rng } from './rng.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { patchTensorType, tinyConfig, variedTexts } from './test-support/fixtures.js';
import { trainBpe } from './tokenizer.js';
import { engineLibraryVersions } from './versions.js';
import { initLlamaWeights, initLoraWeights, type LoraWeights, type Tensor } from './weights.js';

const vocab = trainBpe(variedTexts, 300);
const cfg = tinyConfig({ vocabSize: vocab.tokens.length });
const weights = initLlamaWeights(cfg, 3);
const adapter = initLoraWeights(cfg, { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v', 'down'] }, 4, 0.1);

describe('base model GGUF', () => {
  it('round-trips weights, config and vocabulary exactly in F32', () => {
    const bytes = baseModelToGguf(weights, vocab, { name: 'tiny' });
    const back = baseModelFromGguf(bytes);
    expect(back.name).toBe('tiny');
    expect(back.vocab).toEqual(vocab);
    expect(back.weights).toEqual(weights);
    expect(baseModelToGguf(back.weights, back.vocab, { name: 'tiny' })).toEqual(bytes);
  });

  it('reads tied-embedding and F16 files', () => {
    const tied = initLlamaWeights({ ...cfg, tieEmbeddings: true }, 3);
    const back = baseModelFromGguf(baseModelToGguf(tied, vocab, { name: 't', tensorType: 'F16' }));
    expect(back.weights.config.tieEmbeddings).toBe(true);
    expect(back.weights.output).toBeUndefined();
    const q = back.weights.layers[1]!.q.data;
    const ref = tied.layers[1]!.q.data;
    for (let i = 0; i < q.length; i++) expect(Math.abs(q[i]! - ref[i]!)).toBeLessThan(1e-4);
  });

  it('writes and reads Q8_0 (llama.cpp block layout) within half a quantisation step', () => {
    const back = baseModelFromGguf(baseModelToGguf(weights, vocab, { name: 'q', tensorType: 'Q8_0' })).weights;
    const q = back.layers[0]!.gate.data;
    const ref = weights.layers[0]!.gate.data;
    let max = 0;
    for (const v of ref) max = Math.max(max, Math.abs(v));
    for (let i = 0; i < q.length; i++) expect(Math.abs(q[i]! - ref[i]!)).toBeLessThanOrEqual((max / 127) * 0.6); // half a step, plus the f16-rounded scale
    expect(back.layers[0]!.attnNorm).toEqual(weights.layers[0]!.attnNorm);
  });

  it('refuses other architectures and adapters, naming them', () => {
    const gpt2 = writeGguf([['general.architecture', kv.str('gpt2')]], []);
    const e = errorOf(() => baseModelFromGguf(gpt2));
    expect([e.code, e.message]).toEqual([
      'MODEL_UNSUPPORTED',
      'Unsupported model architecture "gpt2" (supported: llama, qwen2)',
    ]);
    const a = errorOf(() => baseModelFromGguf(adapterToGguf(adapter, { name: 'a' })));
    expect(a.message).toBe('This GGUF file is a LoRA adapter, not a model');
  });

  it('refuses an adapter made for another architecture than the base (llama.cpp would too)', () => {
    const e = errorOf(() => adapterFromGguf(adapterToGguf(adapter, { name: 'a' }), { ...cfg, architecture: 'qwen2' }));
    expect([e.code, e.message]).toEqual(['MODEL_INVALID', 'The adapter is for a llama model, the base model is qwen2']);
  });

  it('quantises to Q4_K within half a step of each sub-block, and refuses rows that are not whole blocks', () => {
    const data = new Rng(3).normalArray(512, 0.02);
    const f = readGguf(writeGguf([], [{ name: 'w', shape: [2, 256], type: ggmlType.Q4_K, data }]));
    const back = ggufTensor(f, 'w').data;
    for (let j = 0; j < 16; j++) {
      const sub = data.subarray(32 * j, 32 * j + 32);
      const step = (Math.max(0, ...sub) - Math.min(0, ...sub)) / 15;
      for (let i = 0; i < 32; i++) expect(Math.abs(back[32 * j + i]! - sub[i]!)).toBeLessThanOrEqual(0.6 * step + 1e-4);
    }
    const e = errorOf(() =>
      writeGguf([], [{ name: 'w', shape: [2, 64], type: ggmlType.Q4_K, data: data.subarray(0, 128) }]),
    );
    expect(e.message).toBe('Q4_K tensor w needs rows that are a multiple of 256');
  });

  it('refuses unsupported tensor types before reading weights', () => {
    const bytes = writeGguf(
      [['general.architecture', kv.str('llama')]],
      [{ name: 'token_embd.weight', shape: [2, 256], type: ggmlType.F32, data: new Float32Array(512) }],
    );
    // Two Q5_K blocks (176 bytes each) fit in the F32 tensor's bytes, so only the type is wrong.
    const patched = patchTensorType(bytes, 'token_embd.weight', 13, 2);
    const e = errorOf(() => baseModelFromGguf(patched));
    expect([e.code, e.message]).toEqual([
      'MODEL_UNSUPPORTED',
      'Tensor token_embd.weight has type Q5_K; supported tensor types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K',
    ]);
  });

  it('reports a truncated model file', () => {
    const bytes = baseModelToGguf(weights, vocab, { name: 'tiny' });
    const e = errorOf(() => baseModelFromGguf(bytes.slice(0, bytes.length - 1000)));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(/^GGUF file is truncated: tensor output\.weight ends at byte \d+, file has \d+$/);
  });
});

describe('LoRA adapter GGUF', () => {
  it('round-trips exactly and has a stable content hash', () => {
    const bytes = adapterToGguf(adapter, { name: 'a' });
    const back = adapterFromGguf(bytes, cfg);
    expect(back).toEqual(adapter);
    const h = artifactHash(bytes);
    expect(h).toEqual(artifactHash(adapterToGguf(adapter, { name: 'a' })));
    expect(h.sha256).toMatch(/^0x[0-9a-f]{64}$/);
    expect(h.cid).toMatch(/^bafkrei[a-z2-7]+$/);
  });

  it('refuses an adapter that does not fit the model', () => {
    const e = errorOf(() => adapterFromGguf(adapterToGguf(adapter, { name: 'a' }), { ...cfg, dim: 64 }));
    expect([e.code, e.message]).toEqual(['MODEL_INVALID', 'Adapter layer 0 q does not fit the model']);
  });

  it('is read by llama.cpp conventions: alpha as F32, lora_a [r, in], lora_b [out, r]', () => {
    const f = readGguf(adapterToGguf(adapter, { name: 'a' }));
    expect(f.metadata.get('adapter.lora.alpha')).toEqual(kv.f32(8));
    const a = f.tensors.find((t) => t.name === 'blk.0.attn_q.weight.lora_a')!;
    const b = f.tensors.find((t) => t.name === 'blk.0.ffn_down.weight.lora_b')!;
    expect(a.shape).toEqual([4, cfg.dim]);
    expect(b.shape).toEqual([cfg.dim, 4]);
  });
});

describe('safetensors', () => {
  it('round-trips F32 tensors and metadata; reports truncation', () => {
    const t: Tensor = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) };
    const bytes = writeSafetensors([['x', t]], { k: 'v' });
    expect(readSafetensors(bytes)).toEqual({ metadata: { k: 'v' }, tensors: new Map([['x', t]]) });
    const e = errorOf(() => readSafetensors(bytes.slice(0, bytes.length - 4)));
    expect(e.message).toBe('safetensors file is truncated: tensor x ends past the end of the file');
    expect(errorOf(() => readSafetensors(bytes.slice(0, 4))).message).toBe('safetensors file is truncated (no header)');
  });
});

const toPeft = (w: LoraWeights) => peftAdapterFiles(w, cfg).safetensors;

describe('PEFT import', () => {
  const config = { peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0.05, target_modules: ['q_proj'] };

  it('converts names, orientation and the q/k RoPE row order', () => {
    const imported = importPeftAdapter({ config: JSON.stringify(config), safetensors: toPeft(adapter), base: cfg });
    expect(imported.config).toEqual({ rank: 4, alpha: 8, dropout: 0.05, targets: ['q', 'k', 'v', 'down'] });
    expect(imported.layers).toEqual(adapter.layers);
    const { gguf, hash } = peftToGgufAdapter({ config, safetensors: toPeft(adapter), base: cfg, name: 'peft' });
    expect(adapterFromGguf(gguf, cfg).layers).toEqual(adapter.layers);
    expect(hash).toEqual(artifactHash(gguf));
  });

  it('rescales rsLoRA alpha so llama.cpp’s alpha/r matches alpha/√r', () => {
    const imported = importPeftAdapter({
      config: { ...config, use_rslora: true },
      safetensors: toPeft(adapter),
      base: cfg,
    });
    expect(imported.config.alpha / imported.config.rank).toBeCloseTo(8 / Math.sqrt(4));
  });

  it('refuses what llama.cpp adapters cannot represent, by name', () => {
    const st = toPeft(adapter);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...config, use_dora: true }, 'DoRA adapters are not supported'],
      [{ ...config, peft_type: 'IA3' }, 'Unsupported PEFT type "IA3" (supported: LORA)'],
      [{ ...config, bias: 'all' }, 'LoRA bias "all" is not supported'],
      [
        { ...config, modules_to_save: ['lm_head'] },
        'Adapters that also train full modules (modules_to_save) are not supported',
      ],
    ];
    for (const [c, message] of cases) {
      const e = errorOf(() => importPeftAdapter({ config: c, safetensors: st, base: cfg }));
      expect([e.code, e.message]).toEqual(['MODEL_UNSUPPORTED', message]);
    }
    const extra = writeSafetensors([
      ['base_model.model.lm_head.lora_A.weight', { shape: [1], data: new Float32Array(1) }],
    ]);
    expect(errorOf(() => importPeftAdapter({ config, safetensors: extra, base: cfg })).message).toBe(
      'Unsupported adapter tensor base_model.model.lm_head.lora_A.weight',
    );
    expect(errorOf(() => importPeftAdapter({ config: '{', safetensors: st, base: cfg })).message).toBe(
      'adapter_config.json is not valid JSON',
    );
  });
});

describe('library versions', () => {
  it('names the installed jax-js and node-llama-cpp versions for receipts', () => {
    const v = engineLibraryVersions();
    expect(v['@jax-js/jax']).toMatch(/^\d+\.\d+\.\d+/);
    expect(v['node-llama-cpp']).toMatch(/^\d+\.\d+\.\d+/);
  });
});
