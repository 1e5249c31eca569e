/**
 * Engine LoRA weights ⇄ llama.cpp adapter GGUF (`general.type = "adapter"`, `adapter.type = "lora"`):
 * blk.N.<proj>.weight.lora_a `[rank, in]` and .lora_b `[out, rank]`; llama.cpp applies scale · B(A x) with
 * scale = adapter.lora.alpha / rank (alpha must be FLOAT32: llama.cpp reads it with gguf_get_val_f32).
 */
import { BaseError } from '../core/index.js';
import { at, dims } from './checked.js';
import { type LlamaConfig, type LoraConfig, type LoraTarget, loraTargets, projectionShapes } from './config.js';
import { type GgufTensorIn, type GgufValue, ggmlType, kv } from './gguf.js';
import { ggufMeta, ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import { checkArchitecture, ggufProjection, metaNumber, ropeRowOrder, transposed } from './llama-gguf-common.js';
import type { LoraPairWeights, LoraWeights } from './weights.js';

/**
 * Writes a llama.cpp LoRA adapter (F32 tensors; adapter.lora.alpha must be FLOAT32 for llama.cpp). `base` is the
 * model it is for: llama.cpp refuses an adapter whose architecture differs from the model's, and `lora_b`'s rows
 * are q/k output features, stored in the base's RoPE order as its own q/k rows are (ropeRowOrder). Default: the
 * llama layout.
 */
export function adapterToGguf(
  w: LoraWeights,
  options: { name: string; base?: LlamaConfig; extra?: [string, GgufValue][] },
): Uint8Array {
  const arch = options.base?.architecture ?? 'llama';
  const rope = options.base ? ropeRowOrder(options.base) : undefined;
  const meta: [string, GgufValue][] = [
    ['general.architecture', kv.str(arch)],
    ['general.type', kv.str('adapter')],
    ['general.name', kv.str(options.name)],
    ['general.alignment', kv.u32(32)],
    ['adapter.type', kv.str('lora')],
    ['adapter.lora.alpha', kv.f32(w.config.alpha)],
    ...(options.extra ?? []),
  ];
  const tensors: GgufTensorIn[] = [];
  w.layers.forEach((rec, i) => {
    for (const t of loraTargets) {
      const p = rec[t];
      if (!p) continue;
      const base = `blk.${i}.${ggufProjection[t]}.weight`;
      tensors.push({ name: `${base}.lora_a`, ...transposed(p.a), type: ggmlType.F32 });
      const b = transposed(p.b);
      const data = rope ? rope(t, b.data, 'halves') : b.data;
      tensors.push({ name: `${base}.lora_b`, shape: b.shape, data, type: ggmlType.F32 });
    }
  });
  return writeGguf(meta, tensors);
}

const LORA_TENSOR = /^blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight\.lora_([ab])$/;
const targetOfProjection = new Map(loraTargets.map((t) => [ggufProjection[t], t]));

/**
 * Reads a llama.cpp LoRA adapter GGUF. `model` (when given) checks the adapter fits that base (and is needed for a
 * qwen2 adapter, to reorder its q/k rows). Dropout is not
 * stored in the format (it only matters while training), so it reads as 0.
 */
export function adapterFromGguf(bytes: Uint8Array, model?: LlamaConfig): LoraWeights {
  const f = readGguf(bytes);
  const arch = checkArchitecture(f, true);
  if (model && arch !== (model.architecture ?? 'llama')) {
    throw new BaseError(
      'MODEL_INVALID',
      `The adapter is for a ${arch} model, the base model is ${model.architecture ?? 'llama'}`,
      { details: { adapter: arch, model: model.architecture ?? 'llama' } },
    );
  }
  if (arch !== 'llama' && !model) {
    throw new BaseError('INVALID_ARGUMENT', `Reading a ${arch} adapter needs its base model's shape`, {
      details: { architecture: arch },
    });
  }
  const rope = model ? ropeRowOrder(model) : undefined;
  const adapterType = ggufMeta(f, 'adapter.type');
  if (adapterType !== 'lora') {
    throw new BaseError('MODEL_UNSUPPORTED', `Unsupported adapter type "${String(adapterType)}" (supported: lora)`, {
      details: { adapterType: adapterType ?? null, supported: ['lora'] },
    });
  }
  const pairs = new Map<string, { layer: number; target: LoraTarget } & Partial<LoraPairWeights>>();
  let maxLayer = -1;
  let rank = 0;
  const targets = new Set<LoraTarget>();
  for (const info of f.tensors) {
    const m = LORA_TENSOR.exec(info.name);
    const target = m ? targetOfProjection.get(at(m, 2)) : undefined;
    if (!m || !target) {
      throw new BaseError('MODEL_UNSUPPORTED', `Unsupported adapter tensor ${info.name}`, {
        details: { tensor: info.name },
      });
    }
    const layer = Number(m[1]);
    targets.add(target);
    maxLayer = Math.max(maxLayer, layer);
    const stored = ggufTensor(f, info.name);
    if (stored.shape.length !== 2) {
      throw new BaseError('MODEL_INVALID', `Adapter tensor ${info.name} has shape [${stored.shape}], not a matrix`, {
        details: { tensor: info.name, shape: stored.shape },
      });
    }
    const t = transposed(
      rope && m[3] === 'b' ? { shape: stored.shape, data: rope(target, stored.data, 'pairs') } : stored,
    );
    const key = `${layer}.${target}`;
    const pair = pairs.get(key) ?? { layer, target };
    if (m[3] === 'a') pair.a = t;
    else pair.b = t;
    pairs.set(key, pair);
    const [rows, cols] = dims(t.shape, 2);
    const r = m[3] === 'a' ? cols : rows;
    if (rank !== 0 && r !== rank) {
      throw new BaseError('MODEL_INVALID', `Adapter tensor ${info.name} has rank ${r}, others ${rank}`, {
        details: { tensor: info.name },
      });
    }
    rank = r;
  }
  if (rank === 0) throw new BaseError('MODEL_INVALID', 'The adapter has no LoRA tensors', { details: {} });
  const nLayers = model?.nLayers ?? maxLayer + 1;
  if (maxLayer >= nLayers) {
    throw new BaseError('MODEL_INVALID', `The adapter has layer ${maxLayer}, the model only ${nLayers}`, {
      details: { layer: maxLayer, nLayers },
    });
  }
  const config: LoraConfig = {
    rank,
    alpha: metaNumber(f, 'adapter.lora.alpha', rank),
    dropout: 0,
    targets: loraTargets.filter((t) => targets.has(t)),
  };
  const layers: LoraWeights['layers'] = Array.from({ length: nLayers }, () => ({}));
  for (const { layer, target, a, b } of pairs.values()) {
    if (!a || !b) {
      throw new BaseError('MODEL_INVALID', `Adapter layer ${layer} ${target} lacks lora_a or lora_b`, {
        details: { layer, target },
      });
    }
    if (model) {
      const [din, dout] = projectionShapes(model)[target];
      if (a.shape[0] !== din || b.shape[1] !== dout) {
        throw new BaseError('MODEL_INVALID', `Adapter layer ${layer} ${target} does not fit the model`, {
          details: { layer, target, a: a.shape, b: b.shape, expected: [din, dout] },
        });
      }
    }
    at(layers, layer)[target] = { a, b };
  }
  return { config, layers };
}
