/**
 * What each method says about one output, in one shape: a coverage in [0, 1] (how much of the output the method
 * explains) and non-negative weights over the corpus's documents (who explains it). Combining works on these only.
 */
import { at } from '../core/index.js';
import type { Bm25Index } from './rag/index.js';
import { terms } from './rag/index.js';
import type { AttributionMethod } from './result.js';
import type { SpanTrace } from './span/index.js';

export interface Evidence {
  method: AttributionMethod;
  coverage: number;
  /** Document index → weight; only documents with a positive weight. */
  weights: Map<number, number>;
}

function add(m: Map<number, number>, k: number, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

/**
 * Span evidence: every output token covered by traced spans is explained; its unit of credit is split equally
 * among the spans covering it, and each span's part equally among the documents containing the span (a phrase in
 * one contribution is strong evidence for it; one in ten is weak evidence for each).
 */
export function spanEvidence(trace: SpanTrace): Evidence {
  const weights = new Map<number, number>();
  let covered = 0;
  for (let t = 0; t < trace.outputTokens; t++) {
    const over = trace.spans.filter((s) => s.start <= t && t < s.end);
    if (over.length === 0) continue;
    covered++;
    for (const s of over) {
      const docs = s.documents;
      for (const d of docs) add(weights, d.document, 1 / over.length / docs.length);
    }
  }
  return { method: 'span', coverage: trace.outputTokens > 0 ? covered / trace.outputTokens : 0, weights };
}

/**
 * RAG citation evidence: the contributions retrieved for the query earn in proportion to their retrieval score
 * times how much of the answer's vocabulary they supplied; coverage is the part of the answer's distinct terms
 * found in some retrieved contribution (retrieved but unused passages earn nothing).
 */
export function ragEvidence(index: Bm25Index, query: string, output: string, k: number): Evidence {
  const hits = index.search(query, k);
  const answer = [...new Set(terms(output))];
  const weights = new Map<number, number>();
  if (answer.length === 0 || hits.length === 0) return { method: 'rag', coverage: 0, weights };
  const found = new Set<string>();
  for (const h of hits) {
    const own = index.termsOf(h.document);
    const used = answer.filter((t) => own.has(t));
    for (const t of used) found.add(t);
    if (used.length > 0) add(weights, h.document, h.score * (used.length / answer.length));
  }
  return { method: 'rag', coverage: found.size / answer.length, weights };
}

/**
 * Gradient evidence: only positive influence earns. Coverage is the positive part of the total influence mass —
 * an output the training data pushed towards as much as away from is half explained.
 */
export function gradientEvidence(scores: ArrayLike<number>): Evidence {
  const weights = new Map<number, number>();
  let positive = 0;
  let total = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = at(scores, i);
    if (!Number.isFinite(s)) continue;
    total += Math.abs(s);
    if (s > 0) {
      positive += s;
      weights.set(i, s);
    }
  }
  return { method: 'gradient', coverage: total > 0 ? positive / total : 0, weights };
}
