/**
 * The baseline the SA-IS build is measured against: textbook prefix doubling (Manber–Myers ranks with two-pass
 * radix sorting per round, no Larsson–Sadakane skipping of finished groups). Each round sorts suffixes by their
 * first 2h symbols from the ranks of the first h, so it costs O(n) per round and O(log(longest repeat)) rounds.
 * Kept deliberately plain: it is the "naive" build of the span-index bench, and a second opinion in tests.
 */

/** Same contract as `suffixArrayIs`: `text` ends with a unique sentinel 0, other symbols in [1, alphabetSize). */
export function suffixArrayDoubling(text: Int32Array, alphabetSize: number): Int32Array {
  const n = text.length;
  const sa = new Int32Array(n);
  if (n === 0) return sa;
  let rank = new Int32Array(n);
  let next = new Int32Array(n);
  const tmp = new Int32Array(n);
  // Round 0: counting sort by the first symbol.
  const cnt0 = new Int32Array(alphabetSize + 1);
  for (let i = 0; i < n; i++) cnt0[text[i]! + 1]!++;
  for (let c = 1; c <= alphabetSize; c++) cnt0[c]! += cnt0[c - 1]!;
  for (let i = 0; i < n; i++) sa[cnt0[text[i]!]!++] = i;
  let classes = 1;
  rank[sa[0]!] = 0;
  for (let i = 1; i < n; i++) {
    if (text[sa[i]!] !== text[sa[i - 1]!]) classes++;
    rank[sa[i]!] = classes - 1;
  }
  const cnt = new Int32Array(n + 1);
  for (let h = 1; classes < n; h *= 2) {
    // Order by the second half: suffixes shorter than h first (their second half is empty), then by sa order.
    let j = 0;
    for (let i = n - h; i < n; i++) tmp[j++] = i;
    for (let i = 0; i < n; i++) if (sa[i]! >= h) tmp[j++] = sa[i]! - h;
    // Stable counting sort by the first half.
    cnt.fill(0, 0, classes + 1);
    for (let i = 0; i < n; i++) cnt[rank[i]! + 1]!++;
    for (let c = 1; c <= classes; c++) cnt[c]! += cnt[c - 1]!;
    for (let i = 0; i < n; i++) {
      const p = tmp[i]!;
      sa[cnt[rank[p]!]!++] = p;
    }
    // New ranks: a class boundary wherever the (first half, second half) pair changes.
    next[sa[0]!] = 0;
    classes = 1;
    for (let i = 1; i < n; i++) {
      const a = sa[i]!;
      const b = sa[i - 1]!;
      const ra = a + h < n ? rank[a + h]! : -1;
      const rb = b + h < n ? rank[b + h]! : -1;
      if (rank[a] !== rank[b] || ra !== rb) classes++;
      next[a] = classes - 1;
    }
    const swap = rank;
    rank = next;
    next = swap;
  }
  return sa;
}
