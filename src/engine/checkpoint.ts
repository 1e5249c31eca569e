/**
 * Training checkpoints: weights, AdamW moments and the step count in one safetensors file (exact F32 bits), plus
 * caller state (data cursor, RNG words, config) as JSON metadata. Restoring one continues training
 * bit-identically to a run that never stopped.
 */
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import { parseFileValue } from './checked.js';
import { type LlamaConfig, type LoraConfig, llamaConfigSchema, loraConfigSchema } from './config.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { TrainState } from './trainer.js';
import { type LlamaWeights, type LoraWeights, namedLlamaTensors, namedLoraTensors, type Tensor } from './weights.js';

type Kind = 'pretrain' | 'lora';

function encode<W>(
  kind: Kind,
  named: (w: W) => [string, Tensor][],
  state: TrainState<W>,
  config: LlamaConfig | LoraConfig,
  extra: Record<string, unknown>,
): Uint8Array {
  const tensors: [string, Tensor][] = [];
  for (const [prefix, w] of [
    ['weights', state.weights],
    ['m', state.m],
    ['v', state.v],
  ] as const) {
    for (const [name, t] of named(w)) tensors.push([`${prefix}.${name}`, t]);
  }
  return writeSafetensors(tensors, {
    kind,
    step: String(state.step),
    config: JSON.stringify(config),
    extra: JSON.stringify(extra),
  });
}

export function encodePretrainCheckpoint(
  state: TrainState<LlamaWeights>,
  extra: Record<string, unknown> = {},
): Uint8Array {
  return encode('pretrain', namedLlamaTensors, state, state.weights.config, extra);
}

export function encodeLoraCheckpoint(state: TrainState<LoraWeights>, extra: Record<string, unknown> = {}): Uint8Array {
  return encode('lora', namedLoraTensors, state, state.weights.config, extra);
}

interface Decoded {
  step: number;
  config: unknown;
  extra: Record<string, unknown>;
  take: (prefix: string, name: string) => Tensor;
}

function decode(bytes: Uint8Array, kind: Kind): Decoded {
  const file = readSafetensors(bytes);
  if (file.metadata.kind !== kind) {
    throw new BaseError('MODEL_INVALID', `Not a ${kind} checkpoint`, { details: { kind: file.metadata.kind ?? null } });
  }
  return {
    step: Number(file.metadata.step),
    config: JSON.parse(file.metadata.config ?? 'null'),
    extra: parseFileValue(
      z.record(z.string(), z.unknown()),
      JSON.parse(file.metadata.extra ?? '{}'),
      'checkpoint extra',
    ),
    take(prefix, name) {
      const t = file.tensors.get(`${prefix}.${name}`);
      if (!t) throw new BaseError('MODEL_INVALID', `Checkpoint lacks tensor ${prefix}.${name}`, { details: { name } });
      return t;
    },
  };
}

function rebuildLlama(d: Decoded, config: LlamaConfig, prefix: string): LlamaWeights {
  const t = (name: string) => d.take(prefix, name);
  const w: LlamaWeights = {
    config,
    embed: t('embed'),
    layers: Array.from({ length: config.nLayers }, (_, i) => ({
      attnNorm: t(`layers.${i}.attnNorm`),
      q: t(`layers.${i}.q`),
      k: t(`layers.${i}.k`),
      v: t(`layers.${i}.v`),
      o: t(`layers.${i}.o`),
      ffnNorm: t(`layers.${i}.ffnNorm`),
      gate: t(`layers.${i}.gate`),
      up: t(`layers.${i}.up`),
      down: t(`layers.${i}.down`),
    })),
    finalNorm: t('finalNorm'),
  };
  if (!config.tieEmbeddings) w.output = t('output');
  return w;
}

function rebuildLora(d: Decoded, config: LoraConfig, prefix: string, nLayers: number): LoraWeights {
  return {
    config,
    layers: Array.from({ length: nLayers }, (_, i) => {
      const rec: LoraWeights['layers'][number] = {};
      for (const target of config.targets) {
        rec[target] = { a: d.take(prefix, `layers.${i}.${target}.a`), b: d.take(prefix, `layers.${i}.${target}.b`) };
      }
      return rec;
    }),
  };
}

export function decodePretrainCheckpoint(bytes: Uint8Array): {
  state: TrainState<LlamaWeights>;
  extra: Record<string, unknown>;
} {
  const d = decode(bytes, 'pretrain');
  const config = parseFileValue(llamaConfigSchema, d.config, 'checkpoint config');
  const rebuild = (prefix: string) => rebuildLlama(d, config, prefix);
  return {
    state: { step: d.step, weights: rebuild('weights'), m: rebuild('m'), v: rebuild('v') },
    extra: d.extra,
  };
}

export function decodeLoraCheckpoint(
  bytes: Uint8Array,
  nLayers: number,
): { state: TrainState<LoraWeights>; extra: Record<string, unknown> } {
  const d = decode(bytes, 'lora');
  const config = parseFileValue(loraConfigSchema, d.config, 'checkpoint config');
  const rebuild = (prefix: string) => rebuildLora(d, config, prefix, nLayers);
  return {
    state: { step: d.step, weights: rebuild('weights'), m: rebuild('m'), v: rebuild('v') },
    extra: d.extra,
  };
}
