/**
 * Near-identical documents, for first-come priority: a document is a copy of an earlier one when at least
 * `copyContainment` of its distinct token 3-grams occur in that earlier document (containment of the later text in
 * the earlier, so a copy that adds a word, repeats the sentence or cuts a paragraph out of the original is still a
 * copy). Corpus order is contribution order; the copy's original is the earliest such document. A copy earns
 * nothing for what its original also holds.
 *
 * Computed lazily per document from the suffix array (only documents that an answer touches are ever checked) and
 * remembered. Integer work only: the same index gives the same originals everywhere.
 */
import { findRange, type SearchArrays } from './search.js';
import { documentOf } from './trace.js';

/** Shingle length in tokens. */
const SHINGLE = 3;
/** Occurrences scanned per shingle: a 3-gram found more often than this is boilerplate, not evidence of copying. */
const MAX_SCAN = 4096;

export interface CopyFinder {
  /** The earliest document that `document` is a near-identical copy of, or `document` itself. */
  originalOf(document: number): number;
}

export function createCopyFinder(a: SearchArrays, starts: Uint32Array, copyContainment: number): CopyFinder {
  const known = new Map<number, number>();
  function find(d: number): number {
    const from = starts[d]!;
    const to = starts[d + 1]! - 1;
    const shingles = new Map<number, number>();
    // Three ids below 2^16 pack exactly into one double below 2^48: a distinct-shingle key without strings.
    for (let p = from; p + SHINGLE <= to; p++)
      shingles.set(a.tokens[p]! * 2 ** 32 + a.tokens[p + 1]! * 2 ** 16 + a.tokens[p + 2]!, p);
    if (shingles.size === 0) return d;
    const shared = new Map<number, number>();
    for (const p of shingles.values()) {
      const [lo, hi] = findRange(a, a.tokens, p, p + SHINGLE);
      const seen = new Set<number>();
      for (let r = lo; r < Math.min(hi, lo + MAX_SCAN); r++) {
        const e = documentOf(starts, a.sa[r]!);
        if (e >= d || seen.has(e)) continue;
        seen.add(e);
        shared.set(e, (shared.get(e) ?? 0) + 1);
      }
    }
    const need = copyContainment * shingles.size;
    let original = d;
    for (const [e, n] of shared) if (n >= need && e < original) original = e;
    return original;
  }
  return {
    originalOf(d) {
      let o = known.get(d);
      if (o === undefined) {
        o = find(d);
        known.set(d, o);
      }
      return o;
    },
  };
}
