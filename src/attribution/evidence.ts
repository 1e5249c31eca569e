/**
 * What each method says about one output, in one shape: a coverage in [0, 1] (how much of the output the method
 * explains) and non-negative weights over the corpus's documents (who explains it). Combining works on these only.
 */
import { at } from '../core/index.js';
import type { Bm25Index } from './rag/index.js';
import { terms } from './rag/index.js';
import type { AttributionMethod } from './result.js';
import type { SpanCredit, TokenCredit } from './span/index.js';

export interface Evidence {
  method: AttributionMethod;
  coverage: number;
  /** Document index → weight; only documents with a positive weight. */
  weights: Map<number, number>;
}

function add(m: Map<number, number>, k: number, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v);
}

/** What span evidence needs to know of the prompt's words: which documents hold each term, and who wrote them. */
export interface PromptFocus {
  /** The prompt's distinct terms (rag/terms.ts). */
  terms: readonly string[];
  holders: ReadonlyMap<string, readonly number[]>;
  /** Documents in the corpus. */
  documents: number;
  contributorOf(document: number): string;
  /** A span this long or longer is a passage, never focused (4 × minSpanLength tokens). */
  passageLength: number;
}

/** A prompt term held by more than this share of the corpus's documents is too common to say who taught an answer. */
export const FOCUS_MAX_DOCUMENT_SHARE = 0.25;

/** The documents holding any of the prompt's terms that at most FOCUS_MAX_DOCUMENT_SHARE of the documents hold. */
function promptHolders(focus: PromptFocus): Set<number> {
  const limit = Math.max(1, Math.floor(focus.documents * FOCUS_MAX_DOCUMENT_SHARE));
  const out = new Set<number>();
  for (const t of new Set(focus.terms)) {
    const held = focus.holders.get(t) ?? [];
    if (held.length <= limit) for (const d of held) out.add(d);
  }
  return out;
}

/**
 * The documents sharing one token once the prompt has its say. When some of the documents holding the answer's
 * span also hold one of the prompt's uncommon terms and others hold none, only the former share the token: they tie
 * the answer to what was asked (a fact's teachers hold its subject; rows that reuse the answer word for another
 * subject do not). Holding any such term is enough, and more of them count for nothing, so stuffing a row with the
 * prompt's words can at most tie with a row that holds the subject. Only short spans are focused — a name, a few
 * words, that many rows use for different things. A passage (≥ passageLength tokens) held verbatim is evidence
 * enough of where it came from, and a copier who adds the prompt's words to an earlier author's passage must not
 * push the author out, so a token some document holds as part of a passage is split as without a prompt. The
 * token's worth is unchanged: it says how common the span is, not who taught it.
 */
function focusedParts(credit: TokenCredit, asked: ReadonlySet<number>, focus: PromptFocus): Map<number, number> {
  const docs = [...credit.parts.keys()].sort((x, y) => x - y);
  if (docs.some((d) => (credit.lengths.get(d) ?? 0) >= focus.passageLength)) return credit.parts;
  const chosen = docs.filter((d) => asked.has(d));
  if (chosen.length === 0 || chosen.length === docs.length) return credit.parts;
  const byContributor = new Map<string, number[]>();
  for (const d of chosen) {
    const who = focus.contributorOf(d);
    byContributor.set(who, [...(byContributor.get(who) ?? []), d]);
  }
  const out = new Map<number, number>();
  for (const ds of byContributor.values())
    for (const d of ds) out.set(d, credit.worth / byContributor.size / ds.length);
  return out;
}

/**
 * Span evidence (span/credit.ts): each output token is worth its credit (1 for a span held by one or two
 * contributors, less for one many contributors share), split among the documents that qualify for it — focused by
 * the prompt when one is given (`focusedParts`); coverage is the output's mean token worth.
 */
export function spanEvidence(credit: SpanCredit, focus?: PromptFocus): Evidence {
  const weights = new Map<number, number>();
  const asked = focus ? promptHolders(focus) : new Set<number>();
  let worth = 0;
  for (const t of credit.tokens) {
    if (!t) continue;
    worth += t.worth;
    const parts = focus && asked.size > 0 ? focusedParts(t, asked, focus) : t.parts;
    for (const [d, part] of [...parts].sort(([x], [y]) => x - y)) add(weights, d, part);
  }
  return { method: 'span', coverage: credit.outputTokens > 0 ? worth / credit.outputTokens : 0, weights };
}

/** Who holds each term of a BM25-indexed corpus: term → documents (ascending). Built once per corpus. */
export function termHolders(index: Bm25Index): Map<string, number[]> {
  const holders = new Map<string, number[]>();
  for (let d = 0; d < index.documents; d++)
    for (const t of index.termsOf(d)) {
      const list = holders.get(t);
      if (list) list.push(d);
      else holders.set(t, [d]);
    }
  return holders;
}

export interface RagCorpus {
  index: Bm25Index;
  holders: ReadonlyMap<string, readonly number[]>;
  contributorOf(document: number): string;
  /** The earliest near-identical document (span/copies.ts), or the document itself. */
  originalOf(document: number): number;
  /** As the span method: a term held by k contributors is worth min(1, (sharedSpanScale / k)²). */
  sharedSpanScale: number;
  /** A term held by more contributors pays nothing. */
  maxSpanContributors: number;
}

/**
 * RAG citation evidence: each distinct term of the answer is credited to the retrieved contributions that
 * supplied it — but only when the retrieval singles its source out, that is when every contribution holding the
 * term (copies counted as their originals) was retrieved; a term other passages hold as well is not evidence that
 * these ones supplied it. A term is worth min(1, (sharedSpanScale / k)²) for the k contributors holding it (as span
 * credit: a shared license line or the corpus's common words pay little), split equally among them. Coverage is the
 * answer's mean term worth; retrieved but unused passages earn nothing, and a retrieved copy earns for its original.
 */
export function ragEvidence(corpus: RagCorpus, query: string, output: string, k: number): Evidence {
  const { index, holders, contributorOf, originalOf } = corpus;
  const retrieved = new Set(index.search(query, k).map((h) => originalOf(h.document)));
  const answer = [...new Set(terms(output))];
  const weights = new Map<number, number>();
  let worth = 0;
  for (const term of answer) {
    const held = holders.get(term) ?? [];
    const contributors = new Set(held.map(contributorOf));
    if (held.length === 0 || contributors.size > corpus.maxSpanContributors) continue;
    const sources = [...new Set(held.map(originalOf))].sort((x, y) => x - y);
    if (!sources.every((d) => retrieved.has(d))) continue;
    const byContributor = new Map<string, number[]>();
    for (const d of sources) byContributor.set(contributorOf(d), [...(byContributor.get(contributorOf(d)) ?? []), d]);
    const w = Math.min(1, (corpus.sharedSpanScale / byContributor.size) ** 2);
    worth += w;
    for (const ds of byContributor.values()) for (const d of ds) add(weights, d, w / byContributor.size / ds.length);
  }
  return { method: 'rag', coverage: answer.length > 0 ? worth / answer.length : 0, weights };
}

/** Rows whose influence is this many robust standard deviations above the median are credited. */
export const GRADIENT_NOISE_Z = 3.5;
/** MAD × this estimates a normal distribution's standard deviation. */
const MAD_TO_SIGMA = 1.4826;

function median(sorted: Float64Array): number {
  const n = sorted.length;
  const mid = n >>> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The score a row must beat to be credited: max(0, median + GRADIENT_NOISE_Z × 1.4826 × MAD) over the finite
 * scores, the modified z-score outlier rule (Iglewicz & Hoaglin). It comes from the score vector itself, so anyone
 * recomputes it; an untrained model or an unrelated question gives scores spread like noise, and only rows that
 * stand out from that spread are paid.
 */
export function gradientNoiseFloor(scores: ArrayLike<number>): { median: number; floor: number } {
  const finite = Float64Array.from(Array.from(scores).filter(Number.isFinite)).sort();
  if (finite.length === 0) return { median: 0, floor: 0 };
  const m = median(finite);
  const deviations = finite.map((s) => Math.abs(s - m)).sort();
  return { median: m, floor: Math.max(0, m + GRADIENT_NOISE_Z * MAD_TO_SIGMA * median(deviations)) };
}

/**
 * Gradient evidence: only influence above the noise floor earns, by its excess over the floor. Coverage is that
 * excess over the total absolute deviation from the median row: rows that stand out explain the answer, a spread
 * of scores like noise explains nothing, and negative influence counts against coverage.
 */
export function gradientEvidence(scores: ArrayLike<number>): Evidence {
  const { median: m, floor } = gradientNoiseFloor(scores);
  const weights = new Map<number, number>();
  let credited = 0;
  let deviation = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = at(scores, i);
    if (!Number.isFinite(s)) continue;
    deviation += Math.abs(s - m);
    if (s > floor) {
      credited += s - floor;
      weights.set(i, s - floor);
    }
  }
  return { method: 'gradient', coverage: deviation > 0 ? Math.min(1, credited / deviation) : 0, weights };
}
