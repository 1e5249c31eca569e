/**
 * The query side of a span index, over a source of arrays that is either in memory (just built) or on disk
 * (loaded lazily and verified on first use). All queries take token ids of the index's tokenizer, or text that
 * the bound tokenizer encodes.
 */
import { BaseError } from '../../core/index.js';
import type { SpanIndexData } from './build.js';
import { type CopyFinder, createCopyFinder } from './copies.js';
import { invalidToken, MAX_TOKEN_ID, SEPARATOR } from './corpus.js';
import {
  creditSpans,
  defaultSpanCreditOptions,
  resolveSpanCreditOptions,
  type SpanCredit,
  type SpanCreditOptions,
} from './credit.js';
import { indexTokenizerMismatch } from './errors.js';
import { openIndexSource } from './format.js';
import { findRange, longestPrefix, type SearchArrays } from './search.js';
import type { IndexSource, SpanIndexInfo } from './source.js';
import type { SpanTokenizer } from './tokenizer.js';
import { rankSpans, resolveTraceOptions, type SpanTrace, spanDocuments, type TraceOptions } from './trace.js';

/** Longer queries are refused: a trace costs one binary search per token. */
export const MAX_QUERY_TOKENS = 100_000;

export interface LongestMatch {
  /** Tokens of the longest prefix of output[i…] that occurs in the corpus (0 if output[i] never does). */
  length: number;
  /** How often that prefix occurs. */
  count: number;
}

export interface InfiniGram {
  /** Length of the longest suffix of the context that occurs followed by some token (the ∞-gram's n − 1). */
  contextLength: number;
  /** Occurrences of that suffix followed by a token (not ending a document). */
  contextCount: number;
  /** Occurrences of that suffix followed by `next`. */
  nextCount: number;
  /** nextCount / contextCount: the ∞-gram probability of `next`. */
  probability: number;
}

export interface SpanIndex {
  readonly info: SpanIndexInfo;
  /** Reads and verifies every file now instead of on first use. */
  load(): Promise<void>;
  /** Occurrences of the n-gram `tokens` (never across a document boundary). */
  count(tokens: ArrayLike<number>): Promise<number>;
  countText(text: string): Promise<number>;
  /** For each output position, the longest corpus match starting there. */
  longestMatches(tokens: ArrayLike<number>): Promise<LongestMatch[]>;
  /** The ∞-gram probability of `next` after `context` (backing off to the longest context suffix seen). */
  infiniGram(context: ArrayLike<number>, next: number): Promise<InfiniGram>;
  /** OLMoTrace-style spans of an output, each mapped to the contributions that contain it. */
  trace(tokens: ArrayLike<number>, options?: TraceOptions): Promise<SpanTrace>;
  traceText(text: string, options?: TraceOptions): Promise<SpanTrace>;
  /** What each output token pays to which documents (credit.ts): the span method's evidence. */
  credit(tokens: ArrayLike<number>, options?: SpanCreditOptions): Promise<SpanCredit>;
  creditText(text: string, options?: SpanCreditOptions): Promise<SpanCredit>;
  /** Near-identical documents (copies.ts): for each document the earliest it copies, or itself. */
  copies(copyContainment?: number): Promise<CopyFinder>;
}

/** Validates a query and copies it into a Uint16Array (keeps the search loops monomorphic). */
function toPattern(tokens: ArrayLike<number>): Uint16Array {
  if (tokens.length > MAX_QUERY_TOKENS) {
    throw new BaseError('PAYLOAD_TOO_LARGE', `A span query holds at most ${MAX_QUERY_TOKENS} tokens`, {
      details: { tokens: tokens.length, max: MAX_QUERY_TOKENS },
    });
  }
  const out = new Uint16Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!(Number.isInteger(t) && t >= 0 && t <= MAX_TOKEN_ID)) throw invalidToken(t, { index: i });
    out[i] = t;
  }
  return out;
}

function rangeSize(a: SearchArrays, pattern: Uint16Array, from: number, to: number): number {
  const [lo, hi] = findRange(a, pattern, from, to);
  return hi - lo;
}

/** Occurrences of pattern[from, to) that are followed by a token rather than a document end. */
function continued(a: SearchArrays, pattern: Uint16Array, from: number, to: number): number {
  if (to === from) return a.sa.length;
  const withEnd = new Uint16Array(to - from + 1);
  withEnd.set(pattern.subarray(from, to));
  withEnd[to - from] = SEPARATOR;
  return rangeSize(a, pattern, from, to) - rangeSize(a, withEnd, 0, withEnd.length);
}

export function createSpanIndex(source: IndexSource, tokenizer?: SpanTokenizer): SpanIndex {
  // Unigram counts, filled on demand (-1 = not yet asked): the log-probability ranking needs them per token.
  const unigrams = new Float64Array(MAX_TOKEN_ID + 1).fill(-1);
  const encode = (text: string): ArrayLike<number> => {
    if (!tokenizer) {
      throw new BaseError('INVALID_ARGUMENT', 'This span index has no tokenizer to encode text with', {
        details: { index: source.info.dir },
      });
    }
    return tokenizer.encode(text);
  };
  // One copy finder per containment threshold: its answers are remembered across queries.
  const copyFinders = new Map<number, CopyFinder>();
  const copyFinder = async (containment: number) => {
    let f = copyFinders.get(containment);
    if (!f) {
      f = createCopyFinder(await source.arrays(), await source.starts(), containment);
      copyFinders.set(containment, f);
    }
    return f;
  };
  const index: SpanIndex = {
    info: source.info,
    async load() {
      await source.arrays();
      await source.starts();
      await source.documents();
    },
    async count(tokens) {
      const pattern = toPattern(tokens);
      return rangeSize(await source.arrays(), pattern, 0, pattern.length);
    },
    async countText(text) {
      return index.count(encode(text));
    },
    async longestMatches(tokens) {
      const q = toPattern(tokens);
      const a = await source.arrays();
      const out: LongestMatch[] = [];
      for (let i = 0; i < q.length; i++) {
        const length = longestPrefix(a, q, i, q.length);
        out.push({ length, count: length === 0 ? 0 : rangeSize(a, q, i, i + length) });
      }
      return out;
    },
    async infiniGram(context, next) {
      const c = toPattern(context);
      const nextPattern = toPattern([next]);
      const a = await source.arrays();
      // Seen-with-a-continuation is monotone in the suffix length, so binary search the longest.
      let lo = 0;
      let hi = c.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (continued(a, c, c.length - mid, c.length) > 0) lo = mid;
        else hi = mid - 1;
      }
      const q = new Uint16Array(lo + 1);
      q.set(c.subarray(c.length - lo));
      q[lo] = nextPattern[0]!;
      const contextCount = continued(a, c, c.length - lo, c.length);
      const nextCount = rangeSize(a, q, 0, q.length);
      return { contextLength: lo, contextCount, nextCount, probability: nextCount / contextCount };
    },
    async trace(tokens, options) {
      const o = resolveTraceOptions(options);
      const q = toPattern(tokens);
      const a = await source.arrays();
      const unigram = (t: number) => {
        let c = unigrams[t]!;
        if (c < 0) {
          c = rangeSize(a, Uint16Array.of(t), 0, 1);
          unigrams[t] = c;
        }
        return c;
      };
      const { maximal, kept } = rankSpans(a, q, unigram, a.sa.length, o);
      const starts = kept.length > 0 ? await source.starts() : new Uint32Array(0);
      const documents = kept.length > 0 ? await source.documents() : [];
      return {
        outputTokens: q.length,
        maximalSpans: maximal,
        spans: kept.map((s) => {
          const docs = spanDocuments(a.sa, starts, documents, s, o.documentsPerSpan);
          const ids = Array.from(q.subarray(s.start, s.end));
          return {
            start: s.start,
            end: s.end,
            length: s.end - s.start,
            count: s.count,
            documentCount: docs.documentCount,
            logProb: s.logProb,
            documents: docs.documents,
            ...(tokenizer?.decode ? { text: tokenizer.decode(ids) } : {}),
          };
        }),
      };
    },
    async traceText(text, options) {
      return index.trace(encode(text), options);
    },
    async credit(tokens, options) {
      const o = resolveSpanCreditOptions(options);
      const q = toPattern(tokens);
      const a = await source.arrays();
      return creditSpans(a, await source.starts(), await source.documents(), q, o, await copyFinder(o.copyContainment));
    },
    async creditText(text, options) {
      return index.credit(encode(text), options);
    },
    copies(copyContainment = defaultSpanCreditOptions.copyContainment) {
      return copyFinder(resolveSpanCreditOptions({ copyContainment }).copyContainment);
    },
  };
  return index;
}

/** Queries an index held in memory (just built). With a tokenizer, its id must match the index's. */
export function spanIndexFromData(data: SpanIndexData, tokenizer?: SpanTokenizer): SpanIndex {
  if (tokenizer && tokenizer.id !== data.tokenizer)
    throw indexTokenizerMismatch('(in memory)', data.tokenizer, tokenizer.id);
  const arrays = Promise.resolve({ tokens: data.tokens, sa: data.sa });
  return createSpanIndex(
    {
      info: { tokenizer: data.tokenizer, tokens: data.sa.length, documents: data.documents.length, dir: null },
      arrays: () => arrays,
      starts: () => Promise.resolve(data.starts),
      documents: () => Promise.resolve(data.documents),
    },
    tokenizer,
  );
}

/**
 * Opens the index written in `dir` for use with `tokenizer`. The header and file sizes are checked now; the
 * arrays are read and verified (sha-256) on first use. Errors are INDEX_INVALID and name the file.
 */
export async function openSpanIndex(options: { dir: string; tokenizer: SpanTokenizer }): Promise<SpanIndex> {
  return createSpanIndex(await openIndexSource(options.dir, options.tokenizer), options.tokenizer);
}
