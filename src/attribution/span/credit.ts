/**
 * Span credit for payment: which documents explain each output token, and how much that token is worth. Unlike the
 * display trace (trace.ts), which keeps only the first maximal span at each place, every document holding a
 * qualifying span over a token is considered, so adding a word to a copied sentence does not push the sentence's
 * author out; and frequencies are counted in contributors, not occurrences, so repeating a sentence in one row
 * neither silences its author nor silences a refrain.
 *
 * For each output token t:
 *  1. Every document holding a span of ≥ `minSpanLength` tokens that covers t, with the length of its longest such
 *     span. Documents qualify if that length is at least half the longest one's: the author of a whole sentence is
 *     not diluted by every row sharing three of its tokens, and a copy that adds a word does not outrank the author.
 *  2. A document whose original (copies.ts: the earliest near-identical document) also qualifies is dropped: a
 *     copy earns nothing for what it copied.
 *  3. The k distinct contributors left share the token equally (each one's part equally among its documents). The
 *     token is worth min(1, (sharedSpanScale / k)²): a span held by two contributors still pays in full, one held
 *     by ten (a license header, boilerplate) pays 4% — smoothly, with no cliff. Spans held by more than
 *     `maxSpanContributors` contributors pay nothing and are not enumerated further.
 * All integer work on the index plus one rational factor per token, in a fixed order: deterministic.
 */
import { BaseError } from '../../core/index.js';
import { createCopyFinder } from './copies.js';
import type { DocumentEntry } from './corpus.js';
import { findRange, longestPrefix, type SearchArrays } from './search.js';
import { documentOf } from './trace.js';

export interface SpanCreditOptions {
  /** Shorter spans are ignored; default 3. */
  minSpanLength?: number;
  /** Documents listed per display span; default 10. */
  documentsPerSpan?: number;
  /** Contributors that may share a span before it is discounted; default 2. */
  sharedSpanScale?: number;
  /** A span held by more contributors pays nothing; default 64. */
  maxSpanContributors?: number;
  /** Share of a document's distinct 3-grams an earlier document must hold for it to be a copy; default 0.8. */
  copyContainment?: number;
}

export const defaultSpanCreditOptions: Required<SpanCreditOptions> = {
  minSpanLength: 3,
  documentsPerSpan: 10,
  sharedSpanScale: 2,
  maxSpanContributors: 64,
  copyContainment: 0.8,
};

export function resolveSpanCreditOptions(options: SpanCreditOptions = {}): Required<SpanCreditOptions> {
  const o = { ...defaultSpanCreditOptions, ...options };
  for (const name of ['minSpanLength', 'documentsPerSpan', 'maxSpanContributors'] as const)
    if (!Number.isInteger(o[name]) || o[name] < 1)
      throw new BaseError('INVALID_ARGUMENT', `Span credit option ${name} must be a positive integer`, {
        details: { option: name, value: o[name] },
      });
  for (const name of ['sharedSpanScale', 'copyContainment'] as const)
    if (!(o[name] > 0 && (name === 'sharedSpanScale' || o[name] <= 1)))
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Span credit option ${name} must be ${name === 'sharedSpanScale' ? 'positive' : 'in (0, 1]'}`,
        { details: { option: name, value: o[name] } },
      );
  return o;
}

/** One output token's credit: its worth in [0, 1] and the documents sharing it (worth split as in step 3). */
export interface TokenCredit {
  worth: number;
  /** Document index → its part of the worth. */
  parts: Map<number, number>;
  /** Document index (those in `parts`) → the length of its longest span covering the token. */
  lengths: Map<number, number>;
}

export interface CreditedSpan {
  /** Output token range [start, end): a maximal match of ≥ minSpanLength tokens. */
  start: number;
  end: number;
  /** Documents credited on any of its tokens, in corpus order (at most documentsPerSpan). */
  documents: number[];
}

export interface SpanCredit {
  outputTokens: number;
  /** Per output token; undefined where no document qualifies. */
  tokens: (TokenCredit | undefined)[];
  spans: CreditedSpan[];
}

/** Documents holding output[i, i + ℓ) for each ℓ ≥ minLen, with the longest ℓ per document. */
interface StartMatches {
  start: number;
  /** Document → its longest match length from `start`. */
  lengths: Map<number, number>;
  /** Spans from `start` this long or shorter are held by more than maxSpanContributors contributors (0: none). */
  commonUpTo: number;
}

function matchesAt(
  a: SearchArrays,
  starts: Uint32Array,
  documents: readonly DocumentEntry[],
  q: Uint16Array,
  i: number,
  longest: number,
  o: Required<SpanCreditOptions>,
): StartMatches {
  const lengths = new Map<number, number>();
  const contributors = new Set<string>();
  let [lo, hi] = findRange(a, q, i, i + longest);
  const visit = (from: number, to: number, len: number) => {
    for (let r = from; r < to; r++) {
      const d = documentOf(starts, a.sa[r]!);
      if (lengths.has(d)) continue;
      lengths.set(d, len);
      contributors.add(documents[d]!.contributor);
    }
  };
  visit(lo, hi, longest);
  if (contributors.size > o.maxSpanContributors) return { start: i, lengths, commonUpTo: longest };
  for (let len = longest - 1; len >= o.minSpanLength; len--) {
    // Shorter prefixes occur wherever longer ones do: only the new ends of the range need a look.
    const [lo2, hi2] = findRange(a, q, i, i + len);
    visit(lo2, lo, len);
    visit(hi, hi2, len);
    lo = lo2;
    hi = hi2;
    if (contributors.size > o.maxSpanContributors) return { start: i, lengths, commonUpTo: len };
  }
  return { start: i, lengths, commonUpTo: 0 };
}

export function creditSpans(
  a: SearchArrays,
  starts: Uint32Array,
  documents: readonly DocumentEntry[],
  q: Uint16Array,
  o: Required<SpanCreditOptions>,
  copies = createCopyFinder(a, starts, o.copyContainment),
): SpanCredit {
  const n = q.length;
  // Per token and document: the longest span of that document covering the token.
  const cover: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  const common = new Int32Array(n);
  // A document's match from an earlier start that reaches as far is longer and already covers these tokens.
  const reachOf = new Map<number, number>();
  const spans: CreditedSpan[] = [];
  let reach = 0;
  for (let i = 0; i < n; i++) {
    const longest = longestPrefix(a, q, i, n);
    if (longest < o.minSpanLength) continue;
    const m = matchesAt(a, starts, documents, q, i, longest, o);
    for (const [d, len] of m.lengths) {
      if ((reachOf.get(d) ?? 0) >= i + len) continue;
      reachOf.set(d, i + len);
      for (let t = i; t < i + len; t++) {
        const c = cover[t]!;
        if ((c.get(d) ?? 0) < len) c.set(d, len);
      }
    }
    for (let t = i; t < i + m.commonUpTo; t++) common[t] = Math.max(common[t]!, m.commonUpTo);
    if (i + longest > reach) {
      spans.push({ start: i, end: i + longest, documents: [] });
      reach = i + longest;
    }
  }
  const tokens = cover.map((c, t) => tokenCredit(c, common[t]!, documents, copies.originalOf, o));
  for (const s of spans) {
    const ds = new Set<number>();
    for (let t = s.start; t < s.end; t++) for (const d of tokens[t]?.parts.keys() ?? []) ds.add(d);
    s.documents = [...ds].sort((x, y) => x - y).slice(0, o.documentsPerSpan);
  }
  return { outputTokens: n, tokens, spans };
}

function tokenCredit(
  cover: Map<number, number>,
  commonLength: number,
  documents: readonly DocumentEntry[],
  originalOf: (d: number) => number,
  o: Required<SpanCreditOptions>,
): TokenCredit | undefined {
  if (cover.size === 0) return undefined;
  let longest = 0;
  for (const len of cover.values()) if (len > longest) longest = len;
  const need = Math.max(o.minSpanLength, Math.ceil(longest / 2));
  // Too common at a qualifying length: the contributors holding it were not all enumerated, and it pays nothing.
  if (commonLength >= need) return undefined;
  const qualifying = [...cover].filter(([, len]) => len >= need).map(([d]) => d);
  const held = new Set(qualifying);
  const kept = qualifying.filter((d) => {
    const original = originalOf(d);
    return original === d || !held.has(original);
  });
  const byContributor = new Map<string, number[]>();
  for (const d of kept.sort((x, y) => x - y)) {
    const who = documents[d]!.contributor;
    byContributor.set(who, [...(byContributor.get(who) ?? []), d]);
  }
  const k = byContributor.size;
  const worth = Math.min(1, (o.sharedSpanScale / k) ** 2);
  const parts = new Map<number, number>();
  for (const ds of byContributor.values()) for (const d of ds) parts.set(d, worth / k / ds.length);
  return { worth, parts, lengths: new Map(kept.map((d) => [d, cover.get(d)!])) };
}
