/**
 * Engine weights ⇄ llama.cpp base-model GGUF files (`general.architecture` "llama" or "qwen2", tokenizer
 * embedded); adapters are in adapter-gguf.ts.
 *
 * Orientation: GGUF keeps linear weights row-major `[out, in]`; the engine keeps `[in, out]`, so linear weights
 * are transposed both ways. The embedding is `[vocab, dim]` in both. No q/k permutation is needed: the engine's
 * RoPE already rotates adjacent pairs like llama.cpp's ROPE_TYPE_NORM (the permutation HF converters apply
 * exists only because HF rotates halves). qwen2 files keep HF's order (llama.cpp runs them with NEOX RoPE), so their
 * q/k rows, and biases, are reordered to pairs on reading and back on writing.
 */
import { BaseError } from '../core/index.js';
import { type LlamaConfig, validateLlamaConfig } from './config.js';
import { type GgufTensorIn, type GgufValue, ggmlType, ggufValueType, kv } from './gguf.js';
import { type GgufFile, ggufMeta, ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import {
  checkArchitecture,
  ggufProjection,
  metaNumber,
  metaNumbers,
  metaStrings,
  ropeRowOrder,
  transposed,
} from './llama-gguf-common.js';
import { preTokenizers } from './pretokenize.js';
import type { Vocabulary } from './tokenizer.js';
import type { LayerWeights, LlamaWeights, Tensor } from './weights.js';

/**
 * Tokenizer metadata llama.cpp understands: byte-level BPE (`gpt2`) with its pre-tokenizer (default `gpt-2`), or
 * SentencePiece (`llama`) with scores. No BOS/EOS is added automatically (callers add what they need).
 */
export function tokenizerMetadata(v: Vocabulary): [string, GgufValue][] {
  const spm = v.model === 'llama';
  return [
    ['tokenizer.ggml.model', kv.str(spm ? 'llama' : 'gpt2')],
    ...(spm ? [] : [['tokenizer.ggml.pre', kv.str(v.pre ?? 'gpt-2')] as [string, GgufValue]]),
    ['tokenizer.ggml.tokens', kv.arr(ggufValueType.STRING, v.tokens)],
    ...(spm ? [['tokenizer.ggml.scores', kv.arr(ggufValueType.FLOAT32, v.scores ?? [])] as [string, GgufValue]] : []),
    ['tokenizer.ggml.token_type', kv.arr(ggufValueType.INT32, v.tokenTypes)],
    ...(spm ? [] : [['tokenizer.ggml.merges', kv.arr(ggufValueType.STRING, v.merges)] as [string, GgufValue]]),
    ['tokenizer.ggml.bos_token_id', kv.u32(v.bosId)],
    ['tokenizer.ggml.eos_token_id', kv.u32(v.eosId)],
    ['tokenizer.ggml.add_bos_token', kv.bool(false)],
    ['tokenizer.ggml.add_eos_token', kv.bool(false)],
    ...(spm ? [['tokenizer.ggml.add_space_prefix', kv.bool(v.addSpacePrefix ?? true)] as [string, GgufValue]] : []),
  ];
}

export interface BaseModelFileOptions {
  name: string;
  /** Type of the matrices (norms stay F32, as llama.cpp's converters do). Default F32. */
  tensorType?: 'F32' | 'F16' | 'Q8_0' | 'Q4_K';
  /** Extra `general.*` metadata (license, description). */
  extra?: [string, GgufValue][];
}

export function baseModelToGguf(w: LlamaWeights, vocab: Vocabulary, options: BaseModelFileOptions): Uint8Array {
  const cfg = validateLlamaConfig(w.config);
  if (vocab.tokens.length !== cfg.vocabSize) {
    throw new BaseError('INVALID_ARGUMENT', 'The vocabulary size does not match the model', {
      details: { tokens: vocab.tokens.length, vocabSize: cfg.vocabSize },
    });
  }
  const matType = ggmlType[options.tensorType ?? 'F32'];
  const arch = cfg.architecture ?? 'llama';
  const meta: [string, GgufValue][] = [
    ['general.architecture', kv.str(arch)],
    ['general.name', kv.str(options.name)],
    ['general.alignment', kv.u32(32)],
    // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q8_0 = 7, MOSTLY_Q4_K_S = 14
    ['general.file_type', kv.u32({ F32: 0, F16: 1, Q8_0: 7, Q4_K: 14 }[options.tensorType ?? 'F32'])],
    ...(options.extra ?? []),
    [`${arch}.vocab_size`, kv.u32(cfg.vocabSize)],
    [`${arch}.context_length`, kv.u32(cfg.contextLength)],
    [`${arch}.embedding_length`, kv.u32(cfg.dim)],
    [`${arch}.block_count`, kv.u32(cfg.nLayers)],
    [`${arch}.feed_forward_length`, kv.u32(cfg.ffnDim)],
    [`${arch}.attention.head_count`, kv.u32(cfg.nHeads)],
    [`${arch}.attention.head_count_kv`, kv.u32(cfg.nKvHeads)],
    [`${arch}.attention.layer_norm_rms_epsilon`, kv.f32(cfg.normEps)],
    [`${arch}.rope.freq_base`, kv.f32(cfg.ropeTheta)],
    [`${arch}.rope.dimension_count`, kv.u32(cfg.dim / cfg.nHeads)],
    ...tokenizerMetadata(vocab),
  ];
  const vec = (name: string, t: Tensor): GgufTensorIn => ({ name, ...t, type: ggmlType.F32 });
  const mat = (name: string, t: Tensor): GgufTensorIn => ({ name, ...t, type: matType });
  const rope = ropeRowOrder(cfg);
  const tensors: GgufTensorIn[] = [mat('token_embd.weight', w.embed)];
  w.layers.forEach((l, i) => {
    tensors.push(vec(`blk.${i}.attn_norm.weight`, l.attnNorm));
    for (const t of ['q', 'k', 'v', 'o'] as const) {
      const g = transposed(l[t]);
      tensors.push(mat(`blk.${i}.${ggufProjection[t]}.weight`, { shape: g.shape, data: rope(t, g.data, 'halves') }));
    }
    const biases = { q: l.qBias, k: l.kBias, v: l.vBias };
    for (const t of ['q', 'k', 'v'] as const) {
      const b = biases[t];
      if (b)
        tensors.push(vec(`blk.${i}.${ggufProjection[t]}.bias`, { shape: b.shape, data: rope(t, b.data, 'halves') }));
    }
    tensors.push(vec(`blk.${i}.ffn_norm.weight`, l.ffnNorm));
    for (const t of ['gate', 'up', 'down'] as const) {
      tensors.push(mat(`blk.${i}.${ggufProjection[t]}.weight`, transposed(l[t])));
    }
  });
  tensors.push(vec('output_norm.weight', w.finalNorm));
  if (w.output) tensors.push(mat('output.weight', transposed(w.output)));
  return writeGguf(meta, tensors);
}

function expectShape(name: string, t: { shape: number[] }, shape: number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new BaseError('MODEL_INVALID', `Tensor ${name} has shape [${t.shape}], expected [${shape}]`, {
      details: { tensor: name, shape: t.shape, expected: shape },
    });
  }
}

export interface BaseModelFile {
  weights: LlamaWeights;
  vocab: Vocabulary;
  name: string;
}

/**
 * A llama-family model's shape from its GGUF metadata (keys under the architecture's name, e.g. `qwen2.block_count`).
 * The output head is tied when the file has no `output.weight`.
 */
export function llamaConfigOf(f: GgufFile, arch: string): LlamaConfig {
  const nHeads = metaNumber(f, `${arch}.attention.head_count`);
  const tokens = f.metadata.get('tokenizer.ggml.tokens');
  const tokenCount = Array.isArray(tokens?.value) ? tokens.value.length : undefined;
  return validateLlamaConfig({
    ...(arch === 'qwen2' ? { architecture: arch } : {}),
    vocabSize: metaNumber(f, `${arch}.vocab_size`, tokenCount),
    dim: metaNumber(f, `${arch}.embedding_length`),
    nLayers: metaNumber(f, `${arch}.block_count`),
    nHeads,
    nKvHeads: metaNumber(f, `${arch}.attention.head_count_kv`, nHeads),
    ffnDim: metaNumber(f, `${arch}.feed_forward_length`),
    contextLength: metaNumber(f, `${arch}.context_length`),
    ropeTheta: metaNumber(f, `${arch}.rope.freq_base`, 10000),
    normEps: metaNumber(f, `${arch}.attention.layer_norm_rms_epsilon`),
    tieEmbeddings: !f.tensors.some((t) => t.name === 'output.weight'),
  });
}

/**
 * Throws, naming the first reason, unless the training engine can read this model: a llama or qwen2 architecture
 * (full RoPE), a SentencePiece (`llama`) or byte-level BPE (`gpt2`) tokenizer with a pre-tokenizer the engine has
 * (GPT-2's, Llama 3's, Qwen2's, SmolLM's), and F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q6_K
 * tensors. Returns its shape.
 */
export function checkEngineReads(f: GgufFile): LlamaConfig {
  const arch = checkArchitecture(f, false);
  const tokenizerModel = ggufMeta(f, 'tokenizer.ggml.model');
  if (tokenizerModel !== 'gpt2' && tokenizerModel !== 'llama') {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Unsupported tokenizer "${String(tokenizerModel)}" (supported: gpt2, llama)`,
      { details: { tokenizer: tokenizerModel ?? null, supported: ['gpt2', 'llama'] } },
    );
  }
  // A BPE vocabulary splits words by its pre-tokenizer: one the engine does not have would give other ids.
  const pre = ggufMeta(f, 'tokenizer.ggml.pre');
  if (tokenizerModel === 'gpt2' && !(typeof pre === 'string' && pre in preTokenizers)) {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Unsupported pre-tokenizer "${String(pre)}" (supported: ${Object.keys(preTokenizers).join(', ')}); llama.cpp can still serve the model`,
      { details: { preTokenizer: pre ?? null, supported: Object.keys(preTokenizers) } },
    );
  }
  const config = llamaConfigOf(f, arch);
  const headDim = config.dim / config.nHeads;
  const ropeDims = metaNumber(f, `${arch}.rope.dimension_count`, headDim);
  if (ropeDims !== headDim) {
    throw new BaseError('MODEL_UNSUPPORTED', `Partial RoPE (${ropeDims} of ${headDim} dims) is not supported`, {
      details: { ropeDims, headDim },
    });
  }
  // The engine's RoPE is the plain one at the file's base frequency: a model that stretches it (linear or YaRN
  // scaling, or Llama 3.1's per-frequency factors in rope_freqs.weight) would get other logits than llama.cpp's.
  const scaling = ggufMeta(f, `${arch}.rope.scaling.type`);
  const factors = f.tensors.some((t) => t.name === 'rope_freqs.weight');
  if ((scaling !== undefined && scaling !== 'none') || factors) {
    const what = factors ? 'per-frequency factors (rope_freqs.weight)' : `"${String(scaling)}"`;
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `RoPE scaling ${what} is not supported by the training engine; llama.cpp can still serve the model`,
      { details: { ropeScaling: factors ? 'rope_freqs' : String(scaling) } },
    );
  }
  return config;
}

/** Reads a llama or qwen2 GGUF (F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K tensors; dequantised to F32). */
export function baseModelFromGguf(bytes: Uint8Array): BaseModelFile {
  const f = readGguf(bytes);
  const config = checkEngineReads(f);
  const dim = config.dim;
  const nHeads = config.nHeads;
  const tokens = metaStrings(f, 'tokenizer.ggml.tokens');
  const hasOutput = !config.tieEmbeddings;
  const spm = ggufMeta(f, 'tokenizer.ggml.model') === 'llama';
  const pre = ggufMeta(f, 'tokenizer.ggml.pre');
  const addSpacePrefix = ggufMeta(f, 'tokenizer.ggml.add_space_prefix');
  const vocab: Vocabulary = {
    ...(spm ? { model: 'llama' as const } : {}),
    ...(!spm && typeof pre === 'string' && pre !== 'gpt-2' ? { pre } : {}),
    tokens,
    tokenTypes: metaNumbers(f, 'tokenizer.ggml.token_type'),
    merges: spm ? [] : metaStrings(f, 'tokenizer.ggml.merges'),
    ...(spm ? { scores: metaNumbers(f, 'tokenizer.ggml.scores').map(Math.fround) } : {}),
    ...(spm && typeof addSpacePrefix === 'boolean' ? { addSpacePrefix } : {}),
    bosId: metaNumber(f, 'tokenizer.ggml.bos_token_id', 0),
    eosId: metaNumber(f, 'tokenizer.ggml.eos_token_id', 0),
  };
  if (tokens.length !== config.vocabSize) {
    throw new BaseError('MODEL_INVALID', 'The tokenizer and the model disagree on the vocabulary size', {
      details: { tokens: tokens.length, vocabSize: config.vocabSize },
    });
  }
  const hd = dim / nHeads;
  const asIs = (name: string, shape: number[]): Tensor => {
    const t = ggufTensor(f, name);
    expectShape(name, t, shape);
    return t;
  };
  const rope = ropeRowOrder(config);
  const lin = (name: string, target: string, inDim: number, outDim: number): Tensor => {
    const t = asIs(name, [outDim, inDim]);
    return transposed({ shape: t.shape, data: rope(target, t.data, 'pairs') });
  };
  const has = (name: string) => f.tensors.some((t) => t.name === name);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.nLayers; i++) {
    const b = `blk.${i}`;
    const out = { q: config.nHeads * hd, k: config.nKvHeads * hd, v: config.nKvHeads * hd };
    const layer: LayerWeights = {
      attnNorm: asIs(`${b}.attn_norm.weight`, [dim]),
      q: lin(`${b}.attn_q.weight`, 'q', dim, out.q),
      k: lin(`${b}.attn_k.weight`, 'k', dim, out.k),
      v: lin(`${b}.attn_v.weight`, 'v', dim, out.v),
      o: lin(`${b}.attn_output.weight`, 'o', config.nHeads * hd, dim),
      ffnNorm: asIs(`${b}.ffn_norm.weight`, [dim]),
      gate: lin(`${b}.ffn_gate.weight`, 'gate', dim, config.ffnDim),
      up: lin(`${b}.ffn_up.weight`, 'up', dim, config.ffnDim),
      down: lin(`${b}.ffn_down.weight`, 'down', config.ffnDim, dim),
    };
    // q/k/v biases (qwen2): all three or none, as llama.cpp's graph adds them.
    if (has(`${b}.attn_q.bias`) || has(`${b}.attn_k.bias`) || has(`${b}.attn_v.bias`)) {
      const bias = (t: 'q' | 'k' | 'v'): Tensor => {
        const v = asIs(`${b}.${ggufProjection[t]}.bias`, [out[t]]);
        return { shape: v.shape, data: rope(t, v.data, 'pairs') };
      };
      Object.assign(layer, { qBias: bias('q'), kBias: bias('k'), vBias: bias('v') });
    }
    layers.push(layer);
  }
  const weights: LlamaWeights = {
    config,
    embed: asIs('token_embd.weight', [config.vocabSize, dim]),
    layers,
    finalNorm: asIs('output_norm.weight', [dim]),
  };
  if (hasOutput) weights.output = lin('output.weight', 'output', dim, config.vocabSize);
  const name = ggufMeta(f, 'general.name');
  return { weights, vocab, name: typeof name === 'string' ? name : '' };
}
