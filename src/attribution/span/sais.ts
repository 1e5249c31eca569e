/**
 * SA-IS (Nong, Zhang & Chan, 2009): linear-time suffix array construction by induced sorting, on typed arrays.
 *
 * Layout choices, each measured on 10 M text-like tokens:
 * - Each symbol carries its suffix type in its low bit ((symbol << 1) | isS), so the induce loops make one random
 *   read per suffix instead of two (symbol + separate type array).
 * - LMS substrings are named after computing their lengths in one sequential scan; two substrings are compared
 *   only when their lengths match (packed symbols compare symbol and type at once).
 * - The reduced problem and its suffix array live inside the output array, as in Nong's reference code, so the
 *   only extra memory is the bucket tables: at 100 M symbols, ~1 GB of text + output and a few MB besides.
 * Every level works on Int32Array so V8 keeps the hot loops monomorphic.
 */

/**
 * Suffix array of `text`, which must end with a unique smallest symbol 0 (the sentinel) and hold only symbols in
 * [1, alphabetSize) elsewhere, with alphabetSize < 2^30. `text` is used as scratch and restored before returning.
 */
export function suffixArrayIs(text: Int32Array, alphabetSize: number): Int32Array {
  const n = text.length;
  const sa = new Int32Array(n);
  if (n === 0) return sa;
  sais(text, sa, n, alphabetSize);
  for (let i = 0; i < n; i++) text[i] = text[i]! >> 1;
  return sa;
}

/** Bucket starts (`end` false) or ends (`end` true) from the symbol counts. */
function buckets(counts: Int32Array, bkt: Int32Array, k: number, end: boolean): void {
  let sum = 0;
  for (let c = 0; c < k; c++) {
    sum += counts[c]!;
    bkt[c] = end ? sum : sum - counts[c]!;
  }
}

/** Left to right: every L-type suffix is induced from the sorted suffix after it. */
function induceL(s: Int32Array, sa: Int32Array, counts: Int32Array, bkt: Int32Array, n: number, k: number): void {
  buckets(counts, bkt, k, false);
  for (let i = 0; i < n; i++) {
    const p = sa[i]!;
    if (p > 0) {
      const v = s[p - 1]!;
      if ((v & 1) === 0) sa[bkt[v >> 1]!++] = p - 1;
    }
  }
}

/**
 * Right to left: every S-type suffix is induced from the sorted suffix after it. With `markLms`, an induced suffix
 * whose predecessor is L-type (an LMS suffix) is stored complemented (~p): stage 1 then finds the LMS suffixes in
 * one sequential scan. The predecessor's symbol is in the same cache line, so the mark costs no extra miss.
 */
function induceS(
  s: Int32Array,
  sa: Int32Array,
  counts: Int32Array,
  bkt: Int32Array,
  n: number,
  k: number,
  markLms: boolean,
): void {
  buckets(counts, bkt, k, true);
  for (let i = n - 1; i >= 0; i--) {
    const p = sa[i]!;
    if (p > 0) {
      const j = p - 1;
      const v = s[j]!;
      if ((v & 1) === 1) sa[--bkt[v >> 1]!] = markLms && j > 0 && (s[j - 1]! & 1) === 0 ? ~j : j;
    }
  }
}

/** `s` holds plain symbols on entry and packed (symbol << 1 | isS) symbols on return. */
function sais(s: Int32Array, sa: Int32Array, n: number, k: number): void {
  if (n === 1) {
    s[0] = 1;
    sa[0] = 0;
    return;
  }
  // Types, right to left: the sentinel is S; a suffix is S if its symbol is smaller than the next one's, or equal
  // and the next suffix is S.
  const counts = new Int32Array(k);
  s[n - 1] = (s[n - 1]! << 1) | 1;
  counts[s[n - 1]! >> 1]!++;
  for (let i = n - 2; i >= 0; i--) {
    const a = s[i]!;
    const next = s[i + 1]!;
    const b = next >> 1;
    s[i] = (a << 1) | (a < b || (a === b && (next & 1) === 1) ? 1 : 0);
    counts[a]!++;
  }
  const bkt = new Int32Array(k);

  // Stage 1: LMS suffixes at their bucket ends in text order, then induce: this sorts the LMS substrings.
  buckets(counts, bkt, k, true);
  sa.fill(-1);
  for (let i = 1; i < n; i++) {
    const v = s[i]!;
    if ((v & 1) === 1 && (s[i - 1]! & 1) === 0) sa[--bkt[v >> 1]!] = i;
  }
  induceL(s, sa, counts, bkt, n, k);
  induceS(s, sa, counts, bkt, n, k, true);

  // Compact the sorted LMS positions into sa[0, n1): the sentinel (always first) and the marked ones.
  let n1 = 1;
  for (let i = 1; i < n; i++) {
    const p = sa[i]!;
    if (p < 0) sa[n1++] = ~p;
  }
  // LMS substring lengths (to the next LMS position) in slot n1 + pos/2: LMS positions are ≥ 2 apart.
  sa.fill(-1, n1, n);
  let nextLms = n - 1;
  sa[n1 + ((n - 1) >> 1)] = 0;
  for (let i = n - 2; i >= 1; i--) {
    if ((s[i]! & 1) === 1 && (s[i - 1]! & 1) === 0) {
      sa[n1 + (i >> 1)] = nextLms - i;
      nextLms = i;
    }
  }
  // Name them in sorted order; equal substrings (same length, same packed symbols) share a name.
  let name = 0;
  let prev = -1;
  let prevLen = -1;
  for (let i = 0; i < n1; i++) {
    const pos = sa[i]!;
    const slot = n1 + (pos >> 1);
    const len = sa[slot]!;
    let diff = true;
    if (len === prevLen) {
      diff = false;
      for (let d = 0; d <= len; d++) {
        if (s[pos + d] !== s[prev + d]) {
          diff = true;
          break;
        }
      }
    }
    if (diff) {
      name++;
      prev = pos;
      prevLen = len;
    }
    sa[slot] = name - 1;
  }
  for (let i = n - 1, j = n - 1; i >= n1; i--) {
    const v = sa[i]!;
    if (v >= 0) sa[j--] = v;
  }

  // Stage 2: the reduced string (names in text order) sits in sa[n - n1, n); solve it into sa[0, n1).
  const s1 = sa.subarray(n - n1, n);
  const sa1 = sa.subarray(0, n1);
  if (name < n1) sais(s1, sa1, n1, name);
  else for (let i = 0; i < n1; i++) sa1[s1[i]!] = i;

  // Stage 3: map the reduced suffix array back to LMS positions, place them in order, induce everything.
  for (let i = 1, j = 0; i < n; i++) if ((s[i]! & 1) === 1 && (s[i - 1]! & 1) === 0) s1[j++] = i;
  for (let i = 0; i < n1; i++) sa1[i] = s1[sa1[i]!]!;
  sa.fill(-1, n1, n);
  buckets(counts, bkt, k, true);
  for (let i = n1 - 1; i >= 0; i--) {
    const p = sa[i]!;
    sa[i] = -1;
    sa[--bkt[s[p]! >> 1]!] = p;
  }
  induceL(s, sa, counts, bkt, n, k);
  induceS(s, sa, counts, bkt, n, k, false);
}
