/**
 * Training checkpoints: weights, AdamW moments and the step count in one safetensors file (exact F32 bits), plus
 * caller state (data cursor, RNG words, config) as JSON metadata. Restoring one continues training
 * bit-identically to a run that never stopped.
 */
import { BaseError } from '../core/index.js';
import type { LlamaConfig, LoraConfig } from './config.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { TrainState } from './trainer.js';
import { type LlamaWeights, type LoraWeights, namedLlamaTensors, namedLoraTensors, type Tensor } from './weights.js';

type Kind = 'pretrain' | 'lora';

function encode(
  kind: Kind,
  step: number,
  named: (w: never) => [string, Tensor][],
  state: TrainState<never>,
  config: unknown,
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
    step: String(step),
    config: JSON.stringify(config),
    extra: JSON.stringify(extra),
  });
}

export function encodePretrainCheckpoint(
  state: TrainState<LlamaWeights>,
  extra: Record<string, unknown> = {},
): Uint8Array {
  return encode('pretrain', state.step, namedLlamaTensors as never, state as never, state.weights.config, extra);
}

export function encodeLoraCheckpoint(state: TrainState<LoraWeights>, extra: Record<string, unknown> = {}): Uint8Array {
  return encode('lora', state.step, namedLoraTensors as never, state as never, state.weights.config, extra);
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
    extra: JSON.parse(file.metadata.extra ?? '{}') as Record<string, unknown>,
    take(prefix, name) {
      const t = file.tensors.get(`${prefix}.${name}`);
      if (!t) throw new BaseError('MODEL_INVALID', `Checkpoint lacks tensor ${prefix}.${name}`, { details: { name } });
      return t;
    },
  };
}

function rebuildLlama(d: Decoded, prefix: string): LlamaWeights {
  const config = d.config as LlamaConfig;
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

function rebuildLora(d: Decoded, prefix: string, nLayers: number): LoraWeights {
  const config = d.config as LoraConfig;
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
  return {
    state: { step: d.step, weights: rebuildLlama(d, 'weights'), m: rebuildLlama(d, 'm'), v: rebuildLlama(d, 'v') },
    extra: d.extra,
  };
}

export function decodeLoraCheckpoint(
  bytes: Uint8Array,
  nLayers: number,
): { state: TrainState<LoraWeights>; extra: Record<string, unknown> } {
  const d = decode(bytes, 'lora');
  return {
    state: {
      step: d.step,
      weights: rebuildLora(d, 'weights', nLayers),
      m: rebuildLora(d, 'm', nLayers),
      v: rebuildLora(d, 'v', nLayers),
    },
    extra: d.extra,
  };
}
