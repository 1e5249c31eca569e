/**
 * Queries on the in-memory arrays: the token stream (separators = 0xFFFF, which no query holds, so a comparison
 * always stops at a document end and never runs off the stream) and the suffix array of token positions.
 * Patterns are validated by the caller (ids ≤ MAX_TOKEN_ID).
 */

export interface SearchArrays {
  tokens: Uint16Array;
  sa: Uint32Array;
}

/** [lo, hi) of the suffix array whose suffixes start with pattern[from, to). Two binary searches. */
export function findRange(
  a: SearchArrays,
  pattern: ArrayLike<number>,
  from = 0,
  to = pattern.length,
): [number, number] {
  const { tokens, sa } = a;
  const m = to - from;
  if (m <= 0) return [0, sa.length];
  // Lower bound: first suffix not less than the pattern. lcpLo/lcpHi are the matched lengths at the two ends of
  // the search interval; every suffix between them shares min(lcpLo, lcpHi) tokens with the pattern, so
  // comparisons start there (Manber–Myers), which keeps long patterns cheap.
  let lo = 0;
  let hi = sa.length;
  let lcpLo = 0;
  let lcpHi = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = sa[mid]!;
    let k = lcpLo < lcpHi ? lcpLo : lcpHi;
    while (k < m && tokens[p + k] === pattern[from + k]) k++;
    if (k < m && tokens[p + k]! < pattern[from + k]!) {
      lo = mid + 1;
      lcpLo = k;
    } else {
      hi = mid;
      lcpHi = k;
    }
  }
  const first = lo;
  // The loop ended on hi = first, so lcpHi is the match length of suffix `first` (if it exists).
  if (first === sa.length || lcpHi < m) return [first, first];
  // Upper bound: first suffix after `first` that does not start with the pattern; `first` is the left end (lcp m).
  lo = first + 1;
  hi = sa.length;
  lcpLo = m;
  lcpHi = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = sa[mid]!;
    let k = lcpLo < lcpHi ? lcpLo : lcpHi;
    while (k < m && tokens[p + k] === pattern[from + k]) k++;
    if (k === m) {
      lo = mid + 1;
      lcpLo = k;
    } else {
      hi = mid;
      lcpHi = k;
    }
  }
  return [first, lo];
}

/**
 * Length of the longest prefix of pattern[from, to) that occurs in the corpus: the suffix sharing the most with the
 * pattern is next to the pattern's insertion point, so one binary search and two comparisons suffice.
 */
export function longestPrefix(a: SearchArrays, pattern: ArrayLike<number>, from: number, to: number): number {
  const { tokens, sa } = a;
  const m = to - from;
  let lo = 0;
  let hi = sa.length;
  let lcpLo = 0;
  let lcpHi = 0;
  let best = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const p = sa[mid]!;
    let k = lcpLo < lcpHi ? lcpLo : lcpHi;
    while (k < m && tokens[p + k] === pattern[from + k]) k++;
    if (k > best) best = k;
    if (k === m) return m;
    if (tokens[p + k]! < pattern[from + k]!) {
      lo = mid + 1;
      lcpLo = k;
    } else {
      hi = mid;
      lcpHi = k;
    }
  }
  return best;
}
