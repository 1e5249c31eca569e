/** What a fine-tune job is asked to do, validated field by field with errors that name the field. */
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import { loraTargets } from '../engine/index.js';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from './names.js';

export const hyperSchema = z.object({
  rank: z.number().int().min(1).max(64).default(8),
  alpha: z.number().positive().max(1024).default(16),
  dropout: z.number().min(0).max(0.5).default(0.05),
  targets: z
    .array(z.enum(loraTargets))
    .min(1)
    .default([...loraTargets]),
  learningRate: z.number().min(1e-6).max(0.1).default(3e-3),
  /** Optimizer steps; when absent, `epochs` passes over the training split. */
  steps: z.number().int().min(1).max(100_000).optional(),
  epochs: z.number().min(0.1).max(100).default(8),
  batchSize: z.number().int().min(1).max(64).default(8),
  /** Cutoff length: examples longer than this many tokens are truncated. */
  seqLen: z.number().int().min(8).max(4096).default(64),
  warmupFraction: z.number().min(0).max(0.5).default(0.1),
  minLrRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).max(1).default(0),
  clipNorm: z.number().positive().max(100).default(1),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
  evalFraction: z.number().min(0).max(0.5).default(0.1),
  checkpointEvery: z.number().int().min(1).max(10_000).default(25),
});

export const fineTuneRequestSchema = z.object({
  /** The model's name (unique in ModelRegistry once published; lowercase ASCII, see names.ts). */
  name: z.string().regex(MODEL_NAME_PATTERN, MODEL_NAME_RULE),
  /** The bundled base model's name (default), or the CID of a base model GGUF in the blob store. */
  baseModel: z.string().min(1).optional(),
  dataNetId: z.string().regex(/^\d+$/, 'expected a DataNet id (decimal)'),
  dataNetVersion: z.number().int().min(1),
  hyper: hyperSchema.default(hyperSchema.parse({})),
});

export type Hyper = z.output<typeof hyperSchema>;
export type FineTuneRequest = z.output<typeof fineTuneRequestSchema>;

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
