/**
 * Checked reads, so code types what it reads instead of asserting it: an element that must exist, and the errno
 * code of a caught Node.js error.
 */
import { BaseError } from './errors.js';

/** `items[i]`, which must exist: a missing element is a bug (INTERNAL), named by its index. */
export function at<T>(items: ArrayLike<T>, i: number): T {
  const v = items[i];
  if (v === undefined) {
    throw new BaseError('INTERNAL', `Index ${i} is out of range (length ${items.length})`, {
      details: { index: i, length: items.length },
    });
  }
  return v;
}

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`…), or undefined for anything else thrown. */
export function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
