/**
 * PEFT LoRA import: `adapter_config.json` + `adapter_model.safetensors` (Hugging Face layout) → engine LoRA
 * weights and a llama.cpp adapter GGUF, like llama.cpp's convert_lora_to_gguf.py.
 *
 * Layout differences handled here:
 * - names: base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight → layer N, target q, A;
 * - orientation: PEFT stores lora_A `[r, in]` and lora_B `[out, r]` (the engine keeps `[in, r]`, `[r, out]`);
 * - RoPE: HF checkpoints rotate halves where the engine rotates adjacent pairs, so lora_B of q and k (its rows are
 *   output features) is reordered to pairs, as HF→GGUF converters reorder llama's q and k; the adapter GGUF then
 *   stores them in the base's own order (pairs for llama, halves again for qwen2, which llama.cpp runs NEOX);
 * - architectures: llama (Llama, Mistral, SmolLM, TinyLlama) and qwen2 name their modules alike;
 * - rsLoRA scales by alpha/√r, llama.cpp by alpha/r: alpha is rescaled so the product is unchanged.
 * Anything that cannot be represented (DoRA, biases, fan_in_fan_out, extra trained modules, other targets) is
 * refused by name.
 */
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import { adapterToGguf } from './adapter-gguf.js';
import { at, parseFileValue } from './checked.js';
import { type LlamaConfig, type LoraConfig, type LoraTarget, loraTargets, projectionShapes } from './config.js';
import { type ArtifactHash, artifactHash } from './hash.js';
import { reorderRopeRows, transposed } from './llama-gguf-common.js';
import { readSafetensors } from './safetensors.js';
import type { LoraWeights, Tensor } from './weights.js';

const moduleTargets: Record<string, LoraTarget> = {
  q_proj: 'q',
  k_proj: 'k',
  v_proj: 'v',
  o_proj: 'o',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
};

const KEY =
  /(?:^|\.)layers\.(\d+)\.(?:self_attn|mlp)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

/**
 * adapter_config.json, as far as the import reads it (other keys are ignored). PEFT writes null for unset
 * options, so every field may be null or absent.
 */
const peftConfigSchema = z.object({
  peft_type: z.string().nullish(),
  r: z.unknown(),
  lora_alpha: z.number().nullish(),
  lora_dropout: z.number().nullish(),
  target_modules: z.union([z.array(z.string()), z.string()]).nullish(),
  use_rslora: z.boolean().nullish(),
  use_dora: z.boolean().nullish(),
  fan_in_fan_out: z.boolean().nullish(),
  bias: z.string().nullish(),
  modules_to_save: z.array(z.string()).nullish(),
});

function unsupported(message: string, details: Record<string, unknown>): BaseError {
  return new BaseError('MODEL_UNSUPPORTED', message, { details });
}

export interface PeftImportInput {
  /** adapter_config.json, as text or parsed. */
  config: string | Record<string, unknown>;
  /** adapter_model.safetensors bytes. */
  safetensors: Uint8Array;
  /** The base model the adapter is for (shapes and head counts). */
  base: LlamaConfig;
}

export function importPeftAdapter(input: PeftImportInput): LoraWeights {
  let json: unknown;
  try {
    json = typeof input.config === 'string' ? JSON.parse(input.config) : input.config;
  } catch (e) {
    throw new BaseError('MODEL_INVALID', 'adapter_config.json is not valid JSON', { cause: e });
  }
  const cfg = parseFileValue(peftConfigSchema, json, 'adapter_config.json');
  if ((cfg.peft_type ?? 'LORA').toUpperCase() !== 'LORA') {
    throw unsupported(`Unsupported PEFT type "${cfg.peft_type}" (supported: LORA)`, { peftType: cfg.peft_type });
  }
  if (cfg.use_dora) throw unsupported('DoRA adapters are not supported', { field: 'use_dora' });
  if (cfg.fan_in_fan_out) throw unsupported('fan_in_fan_out adapters are not supported', { field: 'fan_in_fan_out' });
  if (cfg.bias && cfg.bias !== 'none') throw unsupported(`LoRA bias "${cfg.bias}" is not supported`, { field: 'bias' });
  if (cfg.modules_to_save && cfg.modules_to_save.length > 0) {
    throw unsupported('Adapters that also train full modules (modules_to_save) are not supported', {
      modulesToSave: cfg.modules_to_save,
    });
  }
  const r = cfg.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) {
    throw new BaseError('MODEL_INVALID', 'adapter_config.json has no valid rank r', { details: { r: r ?? null } });
  }
  const alpha = (cfg.lora_alpha ?? r) * (cfg.use_rslora ? Math.sqrt(r) : 1);
  const file = readSafetensors(input.safetensors);
  const shapes = projectionShapes(input.base);
  const layers: LoraWeights['layers'] = Array.from({ length: input.base.nLayers }, () => ({}));
  const partial = new Map<string, { layer: number; target: LoraTarget; a?: Tensor; b?: Tensor }>();
  for (const [name, t] of file.tensors) {
    const m = KEY.exec(name);
    const target = m ? moduleTargets[at(m, 2)] : undefined;
    if (!m || !target) throw unsupported(`Unsupported adapter tensor ${name}`, { tensor: name });
    const layer = Number(m[1]);
    if (layer >= input.base.nLayers) {
      throw new BaseError(
        'MODEL_INVALID',
        `Adapter tensor ${name} is for layer ${layer}; the model has ${input.base.nLayers}`,
        {
          details: { tensor: name },
        },
      );
    }
    const [din, dout] = shapes[target];
    const expected = m[3] === 'A' ? [r, din] : [dout, r];
    if (t.shape.length !== 2 || t.shape[0] !== expected[0] || t.shape[1] !== expected[1]) {
      throw new BaseError('MODEL_INVALID', `Adapter tensor ${name} has shape [${t.shape}], expected [${expected}]`, {
        details: { tensor: name, shape: t.shape, expected },
      });
    }
    const key = `${layer}.${target}`;
    const pair = partial.get(key) ?? { layer, target };
    if (m[3] === 'A') {
      pair.a = transposed(t);
    } else {
      const heads = target === 'q' ? input.base.nHeads : target === 'k' ? input.base.nKvHeads : 0;
      const rows = heads > 0 ? reorderRopeRows(t.data, dout, r, heads, 'pairs') : t.data;
      pair.b = transposed({ shape: t.shape, data: rows });
    }
    partial.set(key, pair);
  }
  const targets = new Set<LoraTarget>();
  for (const { layer, target, a, b } of partial.values()) {
    if (!a || !b) {
      throw new BaseError('MODEL_INVALID', `Adapter layer ${layer} ${target} lacks lora_A or lora_B`, {
        details: { layer, target },
      });
    }
    at(layers, layer)[target] = { a, b };
    targets.add(target);
  }
  if (targets.size === 0) throw new BaseError('MODEL_INVALID', 'The adapter has no LoRA tensors', { details: {} });
  const config: LoraConfig = {
    rank: r,
    alpha,
    dropout: cfg.lora_dropout ?? 0,
    targets: loraTargets.filter((t) => targets.has(t)),
  };
  return { config, layers };
}

/** PEFT files → a llama.cpp adapter GGUF with its content hash. */
export function peftToGgufAdapter(input: PeftImportInput & { name: string }): {
  adapter: LoraWeights;
  gguf: Uint8Array;
  hash: ArtifactHash;
} {
  const adapter = importPeftAdapter(input);
  const gguf = adapterToGguf(adapter, { name: input.name, base: input.base });
  return { adapter, gguf, hash: artifactHash(gguf) };
}
