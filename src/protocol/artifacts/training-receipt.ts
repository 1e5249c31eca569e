/**
 * A training receipt: what ModelFactory stores (canonical JSON, by CID) with every model it trains — the base model,
 * the DataNet version, the full configuration, the adapter, the gradient index of the training examples, the
 * metrics and every example's split. A model's registry entry names it (`receiptCid`); the gradient method of
 * attribution reads the adapter and gradient index from it, on the node and on any auditor.
 */
import { z } from 'zod';
import { address, bytes32, cid, decimal } from '../primitives.js';
import { decodeArtifact, isKind, jsonOf } from './parse.js';

export const TRAINING_RECEIPT_KIND = 'tributary.training-receipt';

/** A content-addressed artifact: its sha-256, CID and size. */
const artifact = z.object({ sha256: bytes32, cid, bytes: z.number().int().nonnegative() });

const num = z.number();
const int = z.number().int();

export const trainingReceipt = z.object({
  kind: z.literal(TRAINING_RECEIPT_KIND),
  version: z.literal(1),
  /** The model's name. */
  name: z.string(),
  baseModel: z.object({ name: z.string(), sha256: bytes32, cid }),
  dataNet: z.object({ id: decimal, version: int, root: bytes32, manifestCid: cid }),
  config: z.object({
    /** The hyperparameters as requested (defaults filled in). */
    hyper: z.object({
      rank: int,
      alpha: num,
      dropout: num,
      targets: z.array(z.string()).readonly(),
      learningRate: num,
      steps: int.optional(),
      epochs: num,
      batchSize: int,
      seqLen: int,
      warmupFraction: num,
      minLrRatio: num,
      weightDecay: num,
      clipNorm: num,
      seed: int,
      evalFraction: num,
      checkpointEvery: int,
    }),
    lora: z.object({ rank: int, alpha: num, dropout: num, targets: z.array(z.string()).readonly() }),
    seqLen: int,
    totalSteps: int,
    optimizer: z.object({ lr: num, beta1: num, beta2: num, eps: num, weightDecay: num, clipNorm: num }),
    schedule: z.object({ warmupSteps: int, totalSteps: int, minLrRatio: num }),
  }),
  configHash: bytes32,
  seed: int,
  adapter: artifact,
  /** The training examples' projected gradients (absent in receipts written before the gradient method). */
  gradientIndex: z.object({ cid, examples: int, projectionDim: int }).optional(),
  metrics: z.object({
    steps: int,
    trainExamples: int,
    evalExamples: int,
    lossFirst: num,
    lossLast: num,
    evalLoss: num.nullable(),
    perplexity: num.nullable(),
    exactMatch: num.nullable(),
    trainExactMatch: num.nullable(),
    parityMaxAbsDiff: num,
    tokensPerSec: num,
    seconds: num,
  }),
  examples: z.array(z.object({ contributionId: bytes32, contributor: address, split: z.enum(['train', 'eval']) })),
  /** Library versions, the engine and its thread count: what a bit-identical rerun needs. */
  libraries: z.record(z.string(), z.union([z.string(), z.number()])),
});
export type TrainingReceipt = z.output<typeof trainingReceipt>;

/** Reads a training receipt; `source` names it in errors. */
export function parseTrainingReceipt(text: string, source: string): TrainingReceipt {
  return decodeArtifact(trainingReceipt, jsonOf(text, source), source);
}

/**
 * A model's receipt CID may name any provenance document (`tributary model register --receipt`): the training
 * receipt in it, or null when the document is JSON of another kind. Not JSON, or a malformed training receipt,
 * is INVALID_ARGUMENT.
 */
export function trainingReceiptOf(text: string, source: string): TrainingReceipt | null {
  const value = jsonOf(text, source);
  return isKind(value, TRAINING_RECEIPT_KIND) ? decodeArtifact(trainingReceipt, value, source) : null;
}
