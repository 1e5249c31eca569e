/** Pieces shared by the llama base-model and adapter GGUF converters. */
import { BaseError } from '../core/index.js';
import { dims } from './checked.js';
import { type LlamaArchitecture, type LlamaConfig, type LoraTarget, llamaArchitectures } from './config.js';
import { type GgufScalar, ggmlTypeName, ggufValueType } from './gguf.js';
import { type GgufFile, ggufMeta, readableTensorTypes } from './gguf-read.js';
import type { Tensor } from './weights.js';

export const ggufProjection: Record<LoraTarget, string> = {
  q: 'attn_q',
  k: 'attn_k',
  v: 'attn_v',
  o: 'attn_output',
  gate: 'ffn_gate',
  up: 'ffn_up',
  down: 'ffn_down',
};

export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** `[rows, cols]` → `[cols, rows]`. */
export function transposed(t: Tensor): Tensor {
  const [rows, cols] = dims(t.shape, 2);
  return { shape: [cols, rows], data: transpose2d(t.data, rows, cols) };
}

/**
 * Reorders the rows (output features) of a q or k projection, head by head, between NEOX RoPE order (each head's
 * first half rotates with its second half: HF checkpoints, qwen2 GGUFs) and adjacent pairs (llama GGUFs, the
 * engine). Attention is unchanged when q and k are reordered alike, so this is only a matter of file conventions.
 */
export function reorderRopeRows(
  data: Float32Array,
  rows: number,
  cols: number,
  heads: number,
  to: 'pairs' | 'halves',
): Float32Array {
  const half = rows / heads / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < half; j++) {
      for (let s = 0; s < 2; s++) {
        const halves = h * 2 * half + s * half + j;
        const pairs = h * 2 * half + 2 * j + s;
        const [src, dst] = to === 'pairs' ? [halves, pairs] : [pairs, halves];
        out.set(data.subarray(src * cols, (src + 1) * cols), dst * cols);
      }
    }
  }
  return out;
}

/**
 * Reorders rows of a projection (GGUF `[out, in]`, a bias, or an adapter's `lora_b` `[out, rank]`) of a model of
 * shape `cfg` between the engine's RoPE order and its file's: only q and k of architectures whose GGUF stores them
 * for NEOX RoPE (qwen2: llama.cpp's LLAMA_ROPE_TYPE_NEOX) change; everything else is returned as is.
 */
export function ropeRowOrder(cfg: LlamaConfig) {
  const neox = (cfg.architecture ?? 'llama') === 'qwen2';
  const hd = cfg.dim / cfg.nHeads;
  return (target: string, data: Float32Array, to: 'pairs' | 'halves'): Float32Array => {
    const heads = target === 'q' ? cfg.nHeads : target === 'k' ? cfg.nKvHeads : 0;
    if (!neox || heads === 0) return data;
    return reorderRopeRows(data, heads * hd, data.length / (heads * hd), heads, to);
  };
}

export function metaNumber(f: GgufFile, key: string, fallback?: number): number {
  const entry = f.metadata.get(key);
  if (entry === undefined && fallback !== undefined) return fallback;
  const v = entry?.value;
  if (typeof v !== 'number' && typeof v !== 'bigint') {
    throw new BaseError('MODEL_INVALID', `GGUF metadata ${key} is missing or not a number`, { details: { key } });
  }
  return entry?.type === ggufValueType.FLOAT32 ? shortestDecimal(Number(v)) : Number(v);
}

/**
 * The shortest decimal that rounds to the same float32: 1e-5 is written as float32 9.99999974e-6, and reading
 * it back as 1e-5 keeps configs (and their hashes) equal across a save/load round trip.
 */
function shortestDecimal(x: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const d = Number(x.toPrecision(digits));
    if (Math.fround(d) === x) return d;
  }
  return x;
}

function metaArray<T extends GgufScalar>(
  f: GgufFile,
  key: string,
  what: string,
  isItem: (x: GgufScalar) => x is T,
): T[] {
  const v = ggufMeta(f, key);
  if (!Array.isArray(v)) throw new BaseError('MODEL_INVALID', `GGUF metadata ${key} is missing`, { details: { key } });
  if (!v.every(isItem)) {
    throw new BaseError('MODEL_INVALID', `GGUF metadata ${key} is not an array of ${what}`, { details: { key } });
  }
  return v;
}

export function metaStrings(f: GgufFile, key: string): string[] {
  return metaArray(f, key, 'strings', (x) => typeof x === 'string');
}

export function metaNumbers(f: GgufFile, key: string): number[] {
  return metaArray(f, key, 'numbers', (x) => typeof x === 'number');
}

function isEngineArchitecture(a: unknown): a is LlamaArchitecture {
  return llamaArchitectures.some((x) => x === a);
}

/** The file's architecture, if the engine reads it; throws naming what is wrong otherwise. */
export function checkArchitecture(f: GgufFile, expectAdapter: boolean): LlamaArchitecture {
  const arch = ggufMeta(f, 'general.architecture');
  if (!isEngineArchitecture(arch)) {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Unsupported model architecture "${String(arch)}" (supported: ${llamaArchitectures.join(', ')})`,
      { details: { architecture: arch ?? null, supported: [...llamaArchitectures] } },
    );
  }
  const isAdapter = ggufMeta(f, 'general.type') === 'adapter';
  if (isAdapter !== expectAdapter) {
    throw new BaseError(
      'MODEL_INVALID',
      expectAdapter ? 'This GGUF file is a model, not a LoRA adapter' : 'This GGUF file is a LoRA adapter, not a model',
      { details: { generalType: ggufMeta(f, 'general.type') ?? null } },
    );
  }
  for (const t of f.tensors) {
    const type = ggmlTypeName(t.type);
    if (!readableTensorTypes.some((r) => r === type)) {
      throw new BaseError(
        'MODEL_UNSUPPORTED',
        `Tensor ${t.name} has type ${type}; supported tensor types: ${readableTensorTypes.join(', ')}`,
        { details: { tensor: t.name, type, supported: [...readableTensorTypes] } },
      );
    }
  }
  return arch;
}
