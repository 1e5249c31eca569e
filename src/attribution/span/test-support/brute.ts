/** Brute-force references for the span index tests: obviously correct, quadratic, small inputs only. */

/** Stream symbols as the sorter sees them: token t → t + 1, the separator ending document d → 65,536 + d. */
function streamOf(docs: number[][]): { sym: number[]; tokenPositions: number[] } {
  const sym: number[] = [];
  const tokenPositions: number[] = [];
  docs.forEach((doc, d) => {
    for (const t of doc) {
      tokenPositions.push(sym.length);
      sym.push(t + 1);
    }
    sym.push(65_536 + d);
  });
  return { sym, tokenPositions };
}

/** Token positions sorted by their suffixes (each suffix ends at the stream end, after a unique separator). */
export function bruteSuffixArray(docs: number[][]): number[] {
  const { sym, tokenPositions } = streamOf(docs);
  return tokenPositions.sort((a, b) => {
    for (;;) {
      if (a === sym.length) return -1;
      if (b === sym.length) return 1;
      if (sym[a] !== sym[b]) return sym[a]! - sym[b]!;
      a++;
      b++;
    }
  });
}

/** Sorted suffixes of a raw text (any ints); shorter prefix first. */
export function bruteRawSuffixArray(text: ArrayLike<number>): number[] {
  const n = text.length;
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    for (;;) {
      if (a === n) return -1;
      if (b === n) return 1;
      if (text[a] !== text[b]) return text[a]! - text[b]!;
      a++;
      b++;
    }
  });
}

function matchesAt(doc: number[], at: number, pattern: ArrayLike<number>, from: number, to: number): boolean {
  if (at + (to - from) > doc.length) return false;
  for (let k = from; k < to; k++) if (doc[at + k - from] !== pattern[k]) return false;
  return true;
}

/** Occurrences of pattern[from, to) inside documents (never across). */
export function bruteCount(docs: number[][], pattern: ArrayLike<number>, from = 0, to = pattern.length): number {
  let c = 0;
  for (const doc of docs) for (let i = 0; i < doc.length; i++) if (matchesAt(doc, i, pattern, from, to)) c++;
  return c;
}

/** Longest prefix of q[i…] that occurs in some document. */
export function bruteLongest(docs: number[][], q: number[], i: number): number {
  let len = 0;
  while (i + len < q.length && bruteCount(docs, q, i, i + len + 1) > 0) len++;
  return len;
}

/** (document index, offset) of every occurrence of pattern, in document order. */
export function bruteOccurrences(docs: number[][], pattern: number[]): [number, number][] {
  const out: [number, number][] = [];
  docs.forEach((doc, d) => {
    for (let i = 0; i < doc.length; i++) if (matchesAt(doc, i, pattern, 0, pattern.length)) out.push([d, i]);
  });
  return out;
}
