/**
 * Checked reads, so the engine types what it reads instead of asserting it: an element that must exist (`at`, from
 * core, shared with every folder), a shape of known rank, and JSON from a file (safetensors and checkpoint headers,
 * PEFT configs) parsed with a schema.
 */
import type { z } from 'zod';
import { BaseError } from '../core/index.js';

export { at } from '../core/index.js';

/** Shapes by rank. */
export interface Dims {
  1: readonly [number];
  2: readonly [number, number];
  3: readonly [number, number, number];
  4: readonly [number, number, number, number];
}

function hasRank<N extends keyof Dims>(shape: readonly number[], rank: N): shape is Dims[N] {
  return shape.length === rank;
}

/** A shape of known rank as a tuple (`const [rows, cols] = dims(t.shape, 2)`); another rank is INTERNAL. */
export function dims<N extends keyof Dims>(shape: readonly number[], rank: N): Dims[N] {
  if (!hasRank(shape, rank)) {
    throw new BaseError('INTERNAL', `Expected a shape of rank ${rank}, got [${shape}]`, {
      details: { shape: [...shape], rank },
    });
  }
  return shape;
}

/** A value read from a file, checked against `schema`; a mismatch is MODEL_INVALID naming `what` and the field. */
export function parseFileValue<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  throw new BaseError('MODEL_INVALID', `${what} is malformed${field ? ` at ${field}` : ''}: ${issue?.message}`, {
    cause: r.error,
    details: { what, ...(field ? { field } : {}) },
  });
}
