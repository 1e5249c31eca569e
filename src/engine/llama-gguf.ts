/**
 * Engine weights ⇄ llama.cpp base-model GGUF files (`general.architecture = "llama"`, tokenizer embedded);
 * adapters are in adapter-gguf.ts.
 *
 * Orientation: GGUF keeps linear weights row-major `[out, in]`; the engine keeps `[in, out]`, so linear weights
 * are transposed both ways. The embedding is `[vocab, dim]` in both. No q/k permutation is needed: the engine's
 * RoPE already rotates adjacent pairs like llama.cpp's ROPE_TYPE_NORM (the permutation HF converters apply
 * exists only because HF rotates halves).
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
  transposed,
} from './llama-gguf-common.js';
import type { Vocabulary } from './tokenizer.js';
import type { LayerWeights, LlamaWeights, Tensor } from './weights.js';

/**
 * Tokenizer metadata llama.cpp understands: model "gpt2" (byte-level BPE) with pre-tokenizer "gpt-2", whose
 * splitting `pretokenize.ts` mirrors. No BOS/EOS is added automatically (callers add what they need).
 */
export function tokenizerMetadata(v: Vocabulary): [string, GgufValue][] {
  return [
    ['tokenizer.ggml.model', kv.str('gpt2')],
    ['tokenizer.ggml.pre', kv.str('gpt-2')],
    ['tokenizer.ggml.tokens', kv.arr(ggufValueType.STRING, v.tokens)],
    ['tokenizer.ggml.token_type', kv.arr(ggufValueType.INT32, v.tokenTypes)],
    ['tokenizer.ggml.merges', kv.arr(ggufValueType.STRING, v.merges)],
    ['tokenizer.ggml.bos_token_id', kv.u32(v.bosId)],
    ['tokenizer.ggml.eos_token_id', kv.u32(v.eosId)],
    ['tokenizer.ggml.add_bos_token', kv.bool(false)],
    ['tokenizer.ggml.add_eos_token', kv.bool(false)],
  ];
}

export interface BaseModelFileOptions {
  name: string;
  /** Type of the matrices (norms stay F32, as llama.cpp's converters do). Default F32. */
  tensorType?: 'F32' | 'F16' | 'Q8_0';
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
  const meta: [string, GgufValue][] = [
    ['general.architecture', kv.str('llama')],
    ['general.name', kv.str(options.name)],
    ['general.alignment', kv.u32(32)],
    // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q8_0 = 7
    ['general.file_type', kv.u32({ F32: 0, F16: 1, Q8_0: 7 }[options.tensorType ?? 'F32'])],
    ...(options.extra ?? []),
    ['llama.vocab_size', kv.u32(cfg.vocabSize)],
    ['llama.context_length', kv.u32(cfg.contextLength)],
    ['llama.embedding_length', kv.u32(cfg.dim)],
    ['llama.block_count', kv.u32(cfg.nLayers)],
    ['llama.feed_forward_length', kv.u32(cfg.ffnDim)],
    ['llama.attention.head_count', kv.u32(cfg.nHeads)],
    ['llama.attention.head_count_kv', kv.u32(cfg.nKvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', kv.f32(cfg.normEps)],
    ['llama.rope.freq_base', kv.f32(cfg.ropeTheta)],
    ['llama.rope.dimension_count', kv.u32(cfg.dim / cfg.nHeads)],
    ...tokenizerMetadata(vocab),
  ];
  const vec = (name: string, t: Tensor): GgufTensorIn => ({ name, ...t, type: ggmlType.F32 });
  const mat = (name: string, t: Tensor): GgufTensorIn => ({ name, ...t, type: matType });
  const tensors: GgufTensorIn[] = [mat('token_embd.weight', w.embed)];
  w.layers.forEach((l, i) => {
    tensors.push(vec(`blk.${i}.attn_norm.weight`, l.attnNorm));
    for (const t of ['q', 'k', 'v', 'o'] as const)
      tensors.push(mat(`blk.${i}.${ggufProjection[t]}.weight`, transposed(l[t])));
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
 * Throws, naming the first reason, unless the training engine can read this model: the llama architecture (no QKV
 * bias, full RoPE), a byte-level BPE (`gpt2`) tokenizer and F32/F16/BF16/Q8_0/Q4_0/Q4_K/Q6_K tensors. Returns its shape.
 */
export function checkEngineReads(f: GgufFile): LlamaConfig {
  checkArchitecture(f, false);
  const tokenizerModel = ggufMeta(f, 'tokenizer.ggml.model');
  if (tokenizerModel !== 'gpt2') {
    throw new BaseError('MODEL_UNSUPPORTED', `Unsupported tokenizer "${String(tokenizerModel)}" (supported: gpt2)`, {
      details: { tokenizer: tokenizerModel ?? null, supported: ['gpt2'] },
    });
  }
  const config = llamaConfigOf(f, 'llama');
  const headDim = config.dim / config.nHeads;
  const ropeDims = metaNumber(f, 'llama.rope.dimension_count', headDim);
  if (ropeDims !== headDim) {
    throw new BaseError('MODEL_UNSUPPORTED', `Partial RoPE (${ropeDims} of ${headDim} dims) is not supported`, {
      details: { ropeDims, headDim },
    });
  }
  return config;
}

/** Reads a llama GGUF (F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K tensors; dequantised to F32). */
export function baseModelFromGguf(bytes: Uint8Array): BaseModelFile {
  const f = readGguf(bytes);
  const config = checkEngineReads(f);
  const dim = config.dim;
  const nHeads = config.nHeads;
  const tokens = metaStrings(f, 'tokenizer.ggml.tokens');
  const hasOutput = !config.tieEmbeddings;
  const vocab: Vocabulary = {
    tokens,
    tokenTypes: metaNumbers(f, 'tokenizer.ggml.token_type'),
    merges: metaStrings(f, 'tokenizer.ggml.merges'),
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
  const lin = (name: string, inDim: number, outDim: number): Tensor => transposed(asIs(name, [outDim, inDim]));
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.nLayers; i++) {
    const b = `blk.${i}`;
    layers.push({
      attnNorm: asIs(`${b}.attn_norm.weight`, [dim]),
      q: lin(`${b}.attn_q.weight`, dim, config.nHeads * hd),
      k: lin(`${b}.attn_k.weight`, dim, config.nKvHeads * hd),
      v: lin(`${b}.attn_v.weight`, dim, config.nKvHeads * hd),
      o: lin(`${b}.attn_output.weight`, config.nHeads * hd, dim),
      ffnNorm: asIs(`${b}.ffn_norm.weight`, [dim]),
      gate: lin(`${b}.ffn_gate.weight`, dim, config.ffnDim),
      up: lin(`${b}.ffn_up.weight`, dim, config.ffnDim),
      down: lin(`${b}.ffn_down.weight`, config.ffnDim, dim),
    });
  }
  const weights: LlamaWeights = {
    config,
    embed: asIs('token_embd.weight', [config.vocabSize, dim]),
    layers,
    finalNorm: asIs('output_norm.weight', [dim]),
  };
  if (hasOutput) weights.output = lin('output.weight', dim, config.vocabSize);
  const name = ggufMeta(f, 'general.name');
  return { weights, vocab, name: typeof name === 'string' ? name : '' };
}
