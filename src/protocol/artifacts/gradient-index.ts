/**
 * The header of a gradient index: ModelFactory builds one with every model it trains and stores it as a blob that
 * the training receipt names (`gradientIndex.cid`); the node and any auditor fetch it to score answers by gradient
 * influence, so a reader trusts nothing in it unchecked. The file around the header — magic, length, this header
 * as canonical JSON, then the projected features (float32) and the curvature's Cholesky factor (float64) and a
 * sha-256 — is encoded and verified by attribution (`src/attribution/gradient/format.ts`); the sizes of those arrays
 * follow from `examples` and `projection.dim`.
 */
import { z } from 'zod';

export const GRADIENT_INDEX_VERSION = 1;

const positiveInt = z.number().int().min(1);

export const gradientIndexHeader = z.object({
  version: z.literal(GRADIENT_INDEX_VERSION),
  /** The model the gradients were taken of. */
  model: z.object({
    /** sha-256 of the base weights (names, shapes, float32 bytes). */
    base: z.string(),
    /** sha-256 of the adapter weights and its rank/alpha/targets. */
    adapter: z.string(),
    /** The tokenizer's identity (e.g. a hash of the vocabulary). */
    tokenizer: z.string(),
  }),
  /** Length of the flattened LoRA gradient. */
  gradientDim: z.number().int().nonnegative(),
  /** The seeded sparse random projection to `dim` (k) dimensions. */
  projection: z.object({ dim: positiveInt, seed: z.number().int(), nonzeros: positiveInt }),
  /** Relative damping: λ = damping · mean eigenvalue of GᵀG/n. */
  damping: z.number(),
  /** Absolute λ added to the curvature's diagonal. */
  lambda: z.number(),
  /** The training examples, in the order of the feature rows (n = their count). */
  examples: z.array(z.object({ id: z.string(), contributor: z.string() })),
});
export type GradientIndexHeader = z.output<typeof gradientIndexHeader>;
