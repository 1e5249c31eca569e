/**
 * What a fine-tune job is asked to do, validated field by field with errors that name the field. The rules (ranges,
 * LoRA targets, the model-name pattern) are the protocol's fine-tune request (src/protocol/http/factory.ts); this
 * adds the node's defaults for every hyperparameter a request leaves out.
 */
import { BaseError } from '../core/index.js';
import { factoryApi } from '../protocol/index.js';

const { fineTuneRequest, hyperparameters, loraTargets } = factoryApi;
const h = hyperparameters.shape;

/** The hyperparameters, each defaulted when left out (`steps` has none: `epochs` passes over the training split). */
export const hyperSchema = hyperparameters.extend({
  rank: h.rank.default(8),
  alpha: h.alpha.default(16),
  dropout: h.dropout.default(0.05),
  targets: h.targets.default([...loraTargets]),
  learningRate: h.learningRate.default(3e-3),
  epochs: h.epochs.default(8),
  batchSize: h.batchSize.default(8),
  seqLen: h.seqLen.default(64),
  warmupFraction: h.warmupFraction.default(0.1),
  minLrRatio: h.minLrRatio.default(0.1),
  weightDecay: h.weightDecay.default(0),
  clipNorm: h.clipNorm.default(1),
  seed: h.seed.default(42),
  evalFraction: h.evalFraction.default(0.1),
  checkpointEvery: h.checkpointEvery.default(25),
});

/** A request as a client may send it, parsed into the request a job stores (every hyperparameter filled in). */
export const fineTuneRequestSchema = fineTuneRequest.extend({ hyper: hyperSchema.default(hyperSchema.parse({})) });

export type Hyper = factoryApi.Hyperparameters;
export type FineTuneRequest = factoryApi.FineTuneRequest;

export function parseFineTuneRequest(input: unknown): FineTuneRequest {
  const r = fineTuneRequestSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Invalid fine-tune request: field ${field}: ${issue?.message ?? 'invalid'}`,
      { details: { field } },
    );
  }
  return r.data;
}
