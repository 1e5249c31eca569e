/**
 * OLMoTrace-style tracing (Liu et al., 2025): find the maximal spans of an output that occur verbatim in the
 * corpus, keep the long and rare ones, and fetch the documents that contain them.
 *  1. For each output position, the longest prefix that occurs (one binary search: the ∞-gram match).
 *  2. Maximal spans: a span is kept unless an earlier one covers it (same end or beyond).
 *  3. Drop spans shorter than `minSpanLength` or occurring more than `maxSpanFrequency` times.
 *  4. Keep ceil(spanDensity × output length) spans: by lowest summed unigram log-probability (OLMoTrace's choice:
 *     long and rare) or by length; ties go to fewer occurrences, then the earlier output position.
 *  5. Map each span's occurrences to documents (in document order, at most `documentsPerSpan`).
 * Everything is integer work on the index except the log-probabilities, which are summed in a fixed order, so the
 * same index and output give the same result on every machine.
 */
import { BaseError } from '../../core/index.js';
import type { DocumentEntry } from './corpus.js';
import { findRange, longestPrefix, type SearchArrays } from './search.js';

export interface TraceOptions {
  /** A span counts only if it occurs at most this many times in the corpus; default 10. */
  maxSpanFrequency?: number;
  /** At most ceil(spanDensity × output tokens) spans are kept; default 0.05. */
  spanDensity?: number;
  /** Documents reported per span; default 10. */
  documentsPerSpan?: number;
  /** Shorter spans are ignored; default 2 (a single shared token says little about provenance). */
  minSpanLength?: number;
  /** `logprob` (default): lowest summed unigram log-probability first; `length`: longest first. */
  rankBy?: 'logprob' | 'length';
}

export const defaultTraceOptions: Required<TraceOptions> = {
  maxSpanFrequency: 10,
  spanDensity: 0.05,
  documentsPerSpan: 10,
  minSpanLength: 2,
  rankBy: 'logprob',
};

export interface SpanOccurrence {
  /** Document index in the corpus. */
  document: number;
  contributionId: string;
  contributor: string;
  /** Token offsets of the span within the document, ascending. */
  positions: number[];
}

export interface TracedSpan {
  /** Output token range [start, end). */
  start: number;
  end: number;
  length: number;
  /** Occurrences in the corpus. */
  count: number;
  /** Distinct documents containing it (documents below lists at most documentsPerSpan of them). */
  documentCount: number;
  /** Sum of ln(unigram probability) of its tokens: lower is rarer. */
  logProb: number;
  documents: SpanOccurrence[];
  /** The span's text, when the tokenizer can decode. */
  text?: string;
}

export interface SpanTrace {
  outputTokens: number;
  /** Maximal matching spans before the length, frequency and density filters. */
  maximalSpans: number;
  /** Kept spans in output order. */
  spans: TracedSpan[];
}

export function resolveTraceOptions(options: TraceOptions = {}): Required<TraceOptions> {
  const o = { ...defaultTraceOptions, ...options };
  const positiveInt = (name: keyof TraceOptions, v: number) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new BaseError('INVALID_ARGUMENT', `Trace option ${name} must be a positive integer`, {
        details: { option: name, value: v },
      });
    }
  };
  positiveInt('maxSpanFrequency', o.maxSpanFrequency);
  positiveInt('documentsPerSpan', o.documentsPerSpan);
  positiveInt('minSpanLength', o.minSpanLength);
  if (!(o.spanDensity > 0 && o.spanDensity <= 1)) {
    throw new BaseError('INVALID_ARGUMENT', 'Trace option spanDensity must be in (0, 1]', {
      details: { option: 'spanDensity', value: o.spanDensity },
    });
  }
  if (o.rankBy !== 'logprob' && o.rankBy !== 'length') {
    throw new BaseError('INVALID_ARGUMENT', 'Trace option rankBy must be "logprob" or "length"', {
      details: { option: 'rankBy', value: o.rankBy },
    });
  }
  return o;
}

/** A kept span before its documents are fetched: [lo, hi) is its suffix-array range. */
export interface RankedSpan {
  start: number;
  end: number;
  count: number;
  logProb: number;
  lo: number;
  hi: number;
}

/** Steps 1–4. `unigram(t)` is the corpus count of token t; `total` the corpus token count. */
export function rankSpans(
  a: SearchArrays,
  output: Uint16Array,
  unigram: (token: number) => number,
  total: number,
  o: Required<TraceOptions>,
): { maximal: number; kept: RankedSpan[] } {
  const n = output.length;
  const candidates: RankedSpan[] = [];
  let reach = 0;
  let maximal = 0;
  for (let i = 0; i < n; i++) {
    const len = longestPrefix(a, output, i, n);
    const end = i + len;
    if (len > 0 && end > reach) {
      maximal++;
      if (len >= o.minSpanLength) {
        const [lo, hi] = findRange(a, output, i, end);
        if (hi - lo <= o.maxSpanFrequency) {
          let logProb = 0;
          for (let j = i; j < end; j++) logProb += Math.log(unigram(output[j]!) / total);
          candidates.push({ start: i, end, count: hi - lo, logProb, lo, hi });
        }
      }
    }
    if (end > reach) reach = end;
  }
  const byScore =
    o.rankBy === 'logprob'
      ? (x: RankedSpan, y: RankedSpan) => x.logProb - y.logProb
      : (x: RankedSpan, y: RankedSpan) => y.end - y.start - (x.end - x.start);
  candidates.sort((x, y) => byScore(x, y) || x.count - y.count || x.start - y.start);
  const keep = Math.ceil(o.spanDensity * n);
  const kept = candidates.slice(0, keep).sort((x, y) => x.start - y.start);
  return { maximal, kept };
}

/** Document index of stream position `pos`: the last d with starts[d] ≤ pos. */
export function documentOf(starts: Uint32Array, pos: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Step 5: the documents holding each occurrence, in document order, positions relative to the document. */
export function spanDocuments(
  sa: Uint32Array,
  starts: Uint32Array,
  documents: DocumentEntry[],
  span: RankedSpan,
  limit: number,
): { documentCount: number; documents: SpanOccurrence[] } {
  const positions = Array.from(sa.subarray(span.lo, span.hi)).sort((x, y) => x - y);
  const out: SpanOccurrence[] = [];
  let documentCount = 0;
  let last = -1;
  for (const pos of positions) {
    const d = documentOf(starts, pos);
    if (d !== last) {
      documentCount++;
      last = d;
      if (out.length < limit) {
        const doc = documents[d]!;
        out.push({ document: d, contributionId: doc.contributionId, contributor: doc.contributor, positions: [] });
      }
    }
    const hit = out[out.length - 1];
    if (hit && hit.document === d) hit.positions.push(pos - starts[d]!);
  }
  return { documentCount, documents: out };
}
