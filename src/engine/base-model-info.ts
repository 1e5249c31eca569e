/**
 * What a node learns about a base model from its GGUF header alone, before it is registered: its architecture and
 * shape, its size, its tensor and tokenizer types, and whether this engine can fine-tune it (and if not, why).
 * Reading the header is cheap, so a multi-gigabyte file is described without dequantising a tensor.
 */
import { BaseError, toBaseError } from '../core/index.js';
import { countParams, ENGINE_MEMORY_LIMIT_BYTES, engineBaseBytes, type LlamaConfig } from './config.js';
import { ggmlTypeName } from './gguf.js';
import { elementCount, type GgufFile, ggufMeta, readGguf } from './gguf-read.js';
import { checkEngineReads, llamaConfigOf } from './llama-gguf.js';

/**
 * Architectures of the llama family (llama.cpp's names): what `model base add` accepts. Llama, Mistral, SmolLM and
 * TinyLlama GGUFs all say `llama` (llama.cpp has no `mistral` architecture: its converter writes Mistral as llama).
 */
export const llamaFamily = ['llama', 'qwen2', 'phi3'] as const;

export interface BaseModelDescription {
  architecture: (typeof llamaFamily)[number];
  /** `general.name`, or '' when the file has none. */
  name: string;
  /** Parameters counted from the tensors as stored. */
  params: number;
  config: LlamaConfig;
  /** The distinct tensor types, by ggml name (F32, Q8_0, Q4_K, …). */
  tensorTypes: string[];
  /** `tokenizer.ggml.model`: gpt2 (byte-level BPE), llama (SentencePiece), … */
  tokenizer: string;
  /** Whether this node's training engine reads the model; when not, the first reason. */
  fineTune: { ok: true } | { ok: false; reason: string };
}

function isLlamaFamily(a: unknown): a is BaseModelDescription['architecture'] {
  return llamaFamily.some((x) => x === a);
}

/** Describes a base model GGUF; throws MODEL_INVALID / MODEL_UNSUPPORTED for what no llama-family node could use. */
export function describeBaseModel(bytes: Uint8Array): BaseModelDescription {
  const f: GgufFile = readGguf(bytes);
  if (ggufMeta(f, 'general.type') === 'adapter') {
    throw new BaseError('MODEL_INVALID', 'This GGUF file is a LoRA adapter, not a base model', {
      details: { generalType: 'adapter' },
    });
  }
  const architecture = ggufMeta(f, 'general.architecture');
  if (!isLlamaFamily(architecture)) {
    const hint = architecture === 'mistral' ? ' (llama.cpp converts Mistral models as "llama")' : '';
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Unsupported architecture "${String(architecture)}": base models are of the llama family (${llamaFamily.join(', ')})${hint}`,
      { details: { architecture: architecture ?? null, supported: [...llamaFamily] } },
    );
  }
  const config = llamaConfigOf(f, architecture);
  let fineTune: BaseModelDescription['fineTune'] = { ok: true };
  try {
    checkEngineReads(f);
    const needs = engineBaseBytes(config);
    if (needs > ENGINE_MEMORY_LIMIT_BYTES) {
      fineTune = {
        ok: false,
        reason: `serve-only: training it needs about ${(needs / 2 ** 30).toFixed(1)} GiB in the training engine, whose (WebAssembly) memory stops at ${ENGINE_MEMORY_LIMIT_BYTES / 2 ** 30} GiB`,
      };
    }
  } catch (e) {
    fineTune = { ok: false, reason: toBaseError(e).message };
  }
  const name = ggufMeta(f, 'general.name');
  const tokenizer = ggufMeta(f, 'tokenizer.ggml.model');
  const stored = f.tensors.reduce((n, t) => n + elementCount(t.shape), 0);
  return {
    architecture,
    name: typeof name === 'string' ? name : '',
    params: stored > 0 ? stored : countParams(config),
    config,
    tensorTypes: [...new Set(f.tensors.map((t) => ggmlTypeName(t.type)))].sort(),
    tokenizer: typeof tokenizer === 'string' ? tokenizer : '',
    fineTune,
  };
}
