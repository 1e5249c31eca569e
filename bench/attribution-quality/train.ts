/**
 * Fine-tuning the bench's models the way the factory trains text rows: each row is its tokens then end-of-text, every
 * token in the loss, AdamW with warmup and decay, seeded shuffles.
 */
import {
  type createLlamaModel,
  createLoraTrainer,
  defaultAdamW,
  type LlamaWeights,
  type LoraConfig,
  type LoraWeights,
  Rng,
  type TokenBatch,
  type Tokenizer,
} from '../../src/engine/index.js';
import { shuffled } from './data.js';

/** A token sequence and which next-token predictions count (weights[0] is ignored). */
export interface Sequence {
  tokens: number[];
  weights: number[];
}

export function textSequence(tok: Tokenizer, text: string): Sequence {
  const tokens = [...tok.encode(text), tok.vocab.eosId];
  return { tokens, weights: tokens.map(() => 1) };
}

export function toBatch(rows: readonly Sequence[], seqLen: number): TokenBatch {
  const n = rows.length * seqLen;
  const inputs = new Int32Array(n);
  const targets = new Int32Array(n);
  const mask = new Float32Array(n);
  rows.forEach((r, b) => {
    const len = Math.min(r.tokens.length, seqLen + 1);
    for (let t = 0; t + 1 < len; t++) {
      inputs[b * seqLen + t] = r.tokens[t] ?? 0;
      targets[b * seqLen + t] = r.tokens[t + 1] ?? 0;
      mask[b * seqLen + t] = r.weights[t + 1] ?? 0;
    }
  });
  return { batchSize: rows.length, seqLen, inputs, targets, mask };
}

/** The longest sequence's predictions, rounded up to a multiple of 8 (few compiled shapes). */
export const seqLenOf = (rows: readonly Sequence[]) =>
  Math.ceil((Math.max(...rows.map((r) => r.tokens.length)) - 1) / 8) * 8;

export interface FineTuneOptions {
  lora: LoraConfig;
  epochs: number;
  lr: number;
  seed: number;
  seqLen: number;
  batchSize: number;
}

export interface FineTuned {
  adapter: LoraWeights;
  /** The adapter after each epoch (the last is `adapter`), when asked for with `checkpoints`. */
  checkpoints: LoraWeights[];
  steps: number;
  firstLoss: number;
  lastLoss: number;
}

export async function fineTune(
  base: LlamaWeights,
  rows: readonly Sequence[],
  o: FineTuneOptions,
  checkpoints = false,
): Promise<FineTuned> {
  const perEpoch = Math.ceil(rows.length / o.batchSize);
  const totalSteps = perEpoch * o.epochs;
  const trainer = createLoraTrainer({
    base,
    lora: o.lora,
    seed: o.seed,
    optimizer: { ...defaultAdamW, lr: o.lr, weightDecay: 0, clipNorm: 1 },
    schedule: { warmupSteps: Math.round(totalSteps * 0.1), totalSteps, minLrRatio: 0.1 },
  });
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  const kept: LoraWeights[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = shuffled(rows, new Rng(o.seed * 1000 + epoch));
      for (let s = 0; s < perEpoch; s++) {
        const members = Array.from({ length: o.batchSize }, (_, i) => order[(s * o.batchSize + i) % order.length]);
        const r = await trainer.step(toBatch(members as Sequence[], o.seqLen));
        if (Number.isNaN(firstLoss)) firstLoss = r.loss;
        lastLoss = r.loss;
      }
      if (checkpoints && epoch < o.epochs - 1) kept.push(await trainer.adapter());
    }
    const adapter = await trainer.adapter();
    return { adapter, checkpoints: checkpoints ? [...kept, adapter] : [], steps: totalSteps, firstLoss, lastLoss };
  } finally {
    trainer.dispose();
  }
}

/** Each sequence's own loss under `adapter` (forward passes over batches of 16). */
export async function sequenceLosses(
  model: ReturnType<typeof createLlamaModel>,
  adapter: LoraWeights,
  seqs: readonly Sequence[],
  seqLen: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < seqs.length; i += 16) {
    const chunk = seqs.slice(i, i + 16);
    // Every batch has 16 rows (loss-free padding): one compiled shape.
    const padded = [...chunk, ...Array.from({ length: 16 - chunk.length }, () => ({ tokens: [0], weights: [0] }))];
    out.push(...Array.from(await model.losses(toBatch(padded, seqLen), adapter)).slice(0, chunk.length));
  }
  return out;
}
