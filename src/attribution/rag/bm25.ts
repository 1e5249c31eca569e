/**
 * Okapi BM25 over a corpus's contributions (Robertson & Zaragoza's scoring with the non-negative idf of Lucene):
 * written here rather than taken from a package because its scores decide money, so they must be identical on
 * every machine and run: integer term statistics, one fixed summation order (query terms in first-seen order,
 * documents in corpus order) and ties broken by corpus position.
 */
import { at, BaseError } from '../../core/index.js';
import { terms } from './terms.js';

export interface Bm25Options {
  /** Term-frequency saturation; default 1.2. */
  k1?: number;
  /** Length normalization in [0, 1]; default 0.75. */
  b?: number;
}

export interface Bm25Document {
  id: string;
  contributor: string;
  text: string;
}

export interface Bm25Hit {
  /** Position of the document in the corpus. */
  document: number;
  id: string;
  contributor: string;
  score: number;
}

export interface Bm25Index {
  readonly documents: number;
  /** The best `k` documents for `query` with a positive score, best first. */
  search(query: string, k: number): Bm25Hit[];
  /** The distinct terms of document `i` (for checking what an answer used). */
  termsOf(i: number): ReadonlySet<string>;
}

export function createBm25Index(docs: readonly Bm25Document[], options: Bm25Options = {}): Bm25Index {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  if (!(k1 >= 0) || !(b >= 0 && b <= 1))
    throw new BaseError('INVALID_ARGUMENT', 'BM25 needs k1 >= 0 and 0 <= b <= 1', { details: { k1, b } });
  const lengths = new Uint32Array(docs.length);
  const docTerms: Set<string>[] = [];
  // term → postings (document, term frequency) in document order.
  const postings = new Map<string, { doc: number; tf: number }[]>();
  let total = 0;
  docs.forEach((d, i) => {
    const ts = terms(d.text);
    lengths[i] = ts.length;
    total += ts.length;
    const tf = new Map<string, number>();
    for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      const list = postings.get(t);
      if (list) list.push({ doc: i, tf: n });
      else postings.set(t, [{ doc: i, tf: n }]);
    }
    docTerms.push(new Set(tf.keys()));
  });
  const avgLength = docs.length > 0 ? total / docs.length : 0;
  const n = docs.length;
  return {
    documents: n,
    search(query, k) {
      const scores = new Float64Array(n);
      const seen = new Set<string>();
      for (const t of terms(query)) {
        if (seen.has(t)) continue;
        seen.add(t);
        const list = postings.get(t);
        if (!list) continue;
        const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
        for (const { doc, tf } of list) {
          const norm = 1 - b + (b * at(lengths, doc)) / (avgLength || 1);
          scores[doc] = at(scores, doc) + (idf * (tf * (k1 + 1))) / (tf + k1 * norm);
        }
      }
      const hits: Bm25Hit[] = [];
      docs.forEach((d, i) => {
        const score = at(scores, i);
        if (score > 0) hits.push({ document: i, id: d.id, contributor: d.contributor, score });
      });
      hits.sort((x, y) => y.score - x.score || x.document - y.document);
      return hits.slice(0, k);
    },
    termsOf(i) {
      const s = docTerms[i];
      if (!s)
        throw new BaseError('INVALID_ARGUMENT', `No document ${i} in this BM25 index`, { details: { document: i } });
      return s;
    },
  };
}
