/**
 * The pure stages of a fine-tune job (finetune.ts composes them with the I/O): from a DataNet version's export to
 * the training plan, the progress records, the evaluation's comparisons, the metrics and the training receipt.
 * Nothing here reads the clock, the blob store or the engine's devices: every input is a plain value.
 */
import type { Hex } from 'viem';
import { at, BaseError, hashObject } from '../core/index.js';
import {
  defaultAdamW,
  type LlamaConfig,
  type LoraConfig,
  type LoraWeights,
  type Tokenizer,
  type TrainState,
  validateLoraConfig,
} from '../engine/index.js';
import { type factoryApi, parseVersionExport, type TrainingReceipt, type VersionExportRow } from '../protocol/index.js';
import {
  type Bucket,
  batchesPerEpoch,
  buildExamples,
  type SftExample,
  splitHeldOut,
  type TrainingExample,
} from './dataset.js';
import { checkFits, type Estimate, estimateFineTune } from './estimate.js';
import type { Hyper } from './request.js';

type FineTuneProgress = factoryApi.FineTuneProgress;
type FineTuneMetrics = factoryApi.FineTuneMetrics;

/** The training data's lineage as results and receipts name it. */
export interface DataNetRef {
  id: string;
  version: number;
  root: Hex;
}

/** CONFLICT unless the DataNet version is committed on chain. */
export function requirePublished(info: { status: string }, dataNetId: bigint, version: number): void {
  if (info.status !== 'published') {
    throw new BaseError('CONFLICT', `Version ${version} of DataNet ${dataNetId} is not committed on chain yet`, {
      details: { field: 'dataNetVersion' },
    });
  }
}

/** The rows of a version's export (JSON lines); CONFLICT if there are none to train on. */
export function versionRows(jsonl: string, dataNetId: bigint, version: number): VersionExportRow[] {
  const rows = parseVersionExport(jsonl, `DataNet ${dataNetId} version ${version} export`);
  if (rows.length === 0) {
    throw new BaseError(
      'CONFLICT',
      `Version ${version} of DataNet ${dataNetId} has no rows to train on (all withdrawn?)`,
      { details: { field: 'dataNetVersion' } },
    );
  }
  return rows;
}

/** The sequence length (the request's, at most the base's context) and the validated LoRA config. */
export function loraSetup(hyper: Hyper, contextLength: number): { seqLen: number; lora: LoraConfig } {
  const seqLen = Math.min(hyper.seqLen, contextLength);
  const lora = validateLoraConfig({
    rank: hyper.rank,
    alpha: hyper.alpha,
    dropout: hyper.dropout,
    targets: hyper.targets,
  });
  return { seqLen, lora };
}

/** The rows as tokenized examples (seqLen + 1 tokens at most), split into training and held-out evaluation. */
export function trainingExamples(
  rows: readonly VersionExportRow[],
  tokenizer: Tokenizer,
  seqLen: number,
  hyper: Pick<Hyper, 'evalFraction' | 'seed'>,
): { examples: TrainingExample[]; train: TrainingExample[]; evaluation: TrainingExample[] } {
  const examples = buildExamples(rows, tokenizer, seqLen + 1);
  const { train, evaluation } = splitHeldOut(examples, hyper.evalFraction, hyper.seed);
  return { examples, train, evaluation };
}

export interface TrainingSchedule {
  totalSteps: number;
  estimate: Estimate;
  schedule: { warmupSteps: number; totalSteps: number; minLrRatio: number };
  optimizer: typeof defaultAdamW;
}

/**
 * How long to train (`steps`, or `epochs` passes over the training split), the estimate of its memory and time
 * (INVALID_ARGUMENT if it does not fit the limits), the learning-rate schedule and the optimizer.
 */
export function trainingSchedule(
  hyper: Hyper,
  buckets: readonly Bucket[],
  model: LlamaConfig,
  lora: LoraConfig,
  limits: { maxSeconds: number; freeBytes?: number },
): TrainingSchedule {
  const perEpoch = batchesPerEpoch(buckets, hyper.batchSize);
  const examples = buckets.reduce((n, b) => n + b.examples.length, 0);
  const totalSteps = hyper.steps ?? Math.max(1, Math.ceil((hyper.epochs * examples) / hyper.batchSize));
  // Time goes with the tokens a step pads to: the buckets' lengths, weighted by their share of an epoch's batches.
  const seqLen = Math.max(
    1,
    Math.round(
      buckets.reduce((n, b) => n + Math.ceil(b.examples.length / hyper.batchSize) * b.seqLen, 0) /
        Math.max(1, perEpoch),
    ),
  );
  const estimate = estimateFineTune(model, lora, { steps: totalSteps, batchSize: hyper.batchSize, seqLen });
  checkFits(estimate, limits);
  const schedule = {
    warmupSteps: Math.round(totalSteps * hyper.warmupFraction),
    totalSteps,
    minLrRatio: hyper.minLrRatio,
  };
  const optimizer = {
    ...defaultAdamW,
    lr: hyper.learningRate,
    weightDecay: hyper.weightDecay,
    clipNorm: hyper.clipNorm,
  };
  return { totalSteps, estimate, schedule, optimizer };
}

/** The id of what is trained: base, data, hyperparameters, sequence length and LoRA config. */
export function configHashOf(
  baseSha256: Hex,
  dataNet: DataNetRef,
  hyper: Hyper,
  seqLen: number,
  lora: LoraConfig,
): Hex {
  return hashObject({ base: baseSha256, dataNet, hyper, seqLen, lora });
}

/** The resume point of an interrupted attempt: its checkpoint's training state and first loss, if any. */
export function resumeFrom<S = TrainState<LoraWeights>>(
  checkpoint: { state: S; extra: Record<string, unknown> } | undefined,
): { resume?: S; lossFirst?: number } {
  if (!checkpoint) return {};
  const stored = checkpoint.extra.lossFirst; // written with each checkpoint
  return { resume: checkpoint.state, ...(typeof stored === 'number' ? { lossFirst: stored } : {}) };
}

/** The progress record before training starts (or resumes at `step`). */
export function preparingProgress(
  step: number,
  totalSteps: number,
  estimate: Estimate,
  lossFirst: number | undefined,
): FineTuneProgress {
  return {
    phase: 'preparing',
    step,
    totalSteps,
    estimate,
    ...(lossFirst !== undefined ? { lossFirst } : {}),
  };
}

/** The progress record of a checkpoint: loss, throughput since training started, ETA, the checkpoint's CID. */
export function trainingProgress(p: {
  step: number;
  totalSteps: number;
  loss: number;
  lossFirst: number;
  trainedTokens: number;
  elapsedMs: number;
  batchSize: number;
  seqLen: number;
  checkpointCid: string;
}): FineTuneProgress {
  const tps = p.trainedTokens / (p.elapsedMs / 1000);
  return {
    phase: 'training',
    step: p.step,
    totalSteps: p.totalSteps,
    loss: p.loss,
    lossFirst: p.lossFirst,
    tokensPerSec: Math.round(tps),
    etaSeconds: Math.round(((p.totalSteps - p.step) * p.batchSize * p.seqLen) / tps),
    checkpointCid: p.checkpointCid,
  };
}

/** The progress record once training is done: the resume point is kept, so a crash does not retrain. */
export function evaluatingProgress(p: {
  step: number;
  totalSteps: number;
  lossFirst: number | undefined;
  loss: number | undefined;
  checkpointCid: string | undefined;
}): FineTuneProgress {
  return {
    phase: 'evaluating',
    step: p.step,
    totalSteps: p.totalSteps,
    lossFirst: p.lossFirst ?? 0,
    ...(p.loss !== undefined ? { loss: p.loss } : {}),
    ...(p.checkpointCid ? { checkpointCid: p.checkpointCid } : {}),
  };
}

/** The largest absolute difference between our logits and llama.cpp's (INTERNAL if llama.cpp has fewer). */
export function maxAbsDiff(ours: Float32Array, theirs: Float32Array): number {
  let max = 0;
  for (const [i, logit] of ours.entries()) max = Math.max(max, Math.abs(logit - at(theirs, i)));
  return max;
}

/** An answer as exact match compares it: trimmed, lower case, single spaces, no final full stop or bang. */
export const normalizeAnswer = (s: string): string =>
  s
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.!]+$/, '');

/** The examples exact match is measured on: the first 16 supervised ones. */
export function exactMatchExamples(set: readonly TrainingExample[]): SftExample[] {
  return set.filter((e): e is SftExample => e.kind === 'sft').slice(0, 16);
}

/** The share of `answers` (generated for `examples`, in order) that match the expected response; null if none. */
export function exactMatchRate(examples: readonly SftExample[], answers: readonly string[]): number | null {
  if (examples.length === 0) return null;
  let hits = 0;
  for (const [i, e] of examples.entries())
    if (normalizeAnswer(answers[i] ?? '') === normalizeAnswer(e.response)) hits++;
  return hits / examples.length;
}

export interface Evaluation {
  evalLoss: number | null;
  exactMatch: number | null;
  trainExactMatch: number | null;
  parityMaxAbsDiff: number;
}

/** The job's metrics; `trainMs` is the time since training started, `totalMs` since the job did. */
export function fineTuneMetrics(p: {
  totalSteps: number;
  trainExamples: number;
  evalExamples: number;
  lossFirst: number | undefined;
  lossLast: number | undefined;
  evaluation: Evaluation;
  trainedTokens: number;
  trainMs: number;
  totalMs: number;
}): FineTuneMetrics {
  const { evalLoss, exactMatch, trainExactMatch, parityMaxAbsDiff } = p.evaluation;
  return {
    steps: p.totalSteps,
    trainExamples: p.trainExamples,
    evalExamples: p.evalExamples,
    lossFirst: p.lossFirst ?? 0,
    lossLast: p.lossLast ?? p.lossFirst ?? 0,
    evalLoss,
    perplexity: evalLoss === null ? null : Math.exp(evalLoss),
    exactMatch,
    trainExactMatch,
    parityMaxAbsDiff,
    tokensPerSec: Math.round(p.trainedTokens / Math.max(0.001, p.trainMs / 1000)),
    seconds: Math.round(p.totalMs / 100) / 10,
  };
}

/** The training receipt (hashed and published with the model): what was trained on what, how, and the results. */
export function trainingReceipt(p: {
  name: string;
  baseModel: TrainingReceipt['baseModel'];
  dataNet: DataNetRef & { manifestCid: string };
  config: TrainingReceipt['config'];
  configHash: Hex;
  seed: number;
  adapter: TrainingReceipt['adapter'];
  gradientIndex: NonNullable<TrainingReceipt['gradientIndex']>;
  metrics: FineTuneMetrics;
  /** Every example, in order; those in `evaluation` (the same objects) were held out. */
  examples: readonly TrainingExample[];
  evaluation: readonly TrainingExample[];
  libraries: TrainingReceipt['libraries'];
}): TrainingReceipt {
  return {
    kind: 'tributary.training-receipt',
    version: 1,
    name: p.name,
    baseModel: p.baseModel,
    dataNet: p.dataNet,
    config: p.config,
    configHash: p.configHash,
    seed: p.seed,
    adapter: p.adapter,
    gradientIndex: p.gradientIndex,
    metrics: p.metrics,
    examples: p.examples.map((e) => ({
      contributionId: e.contributionId,
      contributor: e.contributor,
      split: p.evaluation.includes(e) ? 'eval' : 'train',
    })),
    libraries: p.libraries,
  };
}
