/**
 * Attributing outputs against one corpus (a DataNet version or an audit file): the span index and BM25 index are
 * built once, then each output is traced by the methods asked for and the evidence combined. The gradient method
 * comes from the model (its stored per-example gradients), so it is passed in as a scorer over the corpus rows.
 */
import type { Hex } from 'viem';
import { at, BaseError, hashObject, keccak256 } from '../core/index.js';
import { attributionMethod } from '../protocol/index.js';
import { combineEvidence } from './combine.js';
import type { CorpusRow } from './corpus-file.js';
import {
  type Evidence,
  gradientEvidence,
  type PromptFocus,
  ragEvidence,
  spanEvidence,
  termHolders,
} from './evidence.js';
import {
  type Bm25Index,
  bundledWordNet,
  bundledWordVectors,
  createBm25Index,
  createHybridRetriever,
  type HybridRetriever,
  terms,
} from './rag/index.js';
import { type AttributionMethod, type AttributionResult, attributionMethods } from './result.js';
import {
  buildSpanIndexFromTexts,
  type SpanCreditOptions,
  type SpanIndex,
  type SpanTokenizer,
  spanIndexFromData,
} from './span/index.js';

/** Outputs (and prompts) longer than this are refused: a trace costs a binary search per token. */
export const MAX_ATTRIBUTED_CHARS = 100_000;

/**
 * Span credit settings for payment (span/credit.ts): spans of ≥ 3 tokens, every document holding one over a token
 * considered; a span shared by more than 2 contributors is discounted by (2 / contributors)², one held by more than
 * 64 pays nothing; a document holding ≥ 80% of its 3-grams in an earlier one is a copy and earns nothing for them.
 */
export const attributionTraceOptions: Required<SpanCreditOptions> = {
  minSpanLength: 3,
  documentsPerSpan: 10,
  sharedSpanScale: 2,
  maxSpanContributors: 64,
  copyContainment: 0.8,
};

/** Scores every corpus row (same order as the rows) for how much it helped the model produce `output`. */
export type GradientScorer = (r: { prompt: string; output: string }) => Promise<ArrayLike<number>>;

export interface AttributeInput {
  /** What the model was asked (RAG retrieves with it; empty for an audit of a bare text). */
  prompt?: string;
  output: string;
  methods: readonly AttributionMethod[];
  /** The gradient scorer of the model that produced the output (overrides the attributor's). */
  gradient?: GradientScorer;
}

export interface CorpusAttributor {
  readonly rows: readonly CorpusRow[];
  /** `corpusHashOf(rows)`, carried by every result. */
  readonly corpusHash: Hex;
  readonly spanIndex: SpanIndex;
  attribute(input: AttributeInput): Promise<AttributionResult>;
  /** The corpus rows the hybrid retriever (rag/hybrid.ts) ranks best for `query` (what a grounded prompt reads), best first. */
  retrieve(query: string, k: number): (CorpusRow & { score: number })[];
}

export interface CorpusAttributorOptions {
  rows: readonly CorpusRow[];
  tokenizer: SpanTokenizer;
  /** An index already built or opened for these rows (otherwise built in memory). */
  spanIndex?: SpanIndex;
  gradient?: GradientScorer;
  dataNet?: AttributionResult['dataNet'];
  trace?: SpanCreditOptions;
  /** Passages retrieved per query; default 3. */
  ragTopK?: number;
}

function checkText(field: string, text: string): void {
  if (typeof text !== 'string')
    throw new BaseError('INVALID_ARGUMENT', `${field} must be a string`, { details: { field } });
  if (text.length > MAX_ATTRIBUTED_CHARS)
    throw new BaseError(
      'PAYLOAD_TOO_LARGE',
      `${field} has ${text.length} characters; attribution takes at most ${MAX_ATTRIBUTED_CHARS}`,
      { details: { field, chars: text.length, max: MAX_ATTRIBUTED_CHARS } },
    );
}

export function parseMethods(value: string): AttributionMethod[] {
  if (value === 'all') return [...attributionMethods];
  const out: AttributionMethod[] = [];
  for (const m of value.split(',').map((s) => s.trim())) {
    const method = attributionMethod.safeParse(m);
    if (!method.success)
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Unknown attribution method "${m}" (expected one of ${[...attributionMethods, 'all'].join(', ')})`,
        {
          details: { field: 'method', value: m },
        },
      );
    if (!out.includes(method.data)) out.push(method.data);
  }
  return out;
}

/**
 * The identity of a corpus: the hash of its rows in order (id, contributor, keccak-256 of the text). Results over the
 * same rows carry the same hash; a withdrawal (a row gone) or an edit changes it.
 */
export function corpusHashOf(rows: readonly CorpusRow[]): Hex {
  return hashObject(rows.map((r) => [r.id, r.contributor, keccak256(r.text)]));
}

export function createCorpusAttributor(options: CorpusAttributorOptions): CorpusAttributor {
  const { rows, tokenizer } = options;
  if (rows.length === 0)
    throw new BaseError('INVALID_ARGUMENT', 'Cannot attribute against an empty corpus', { details: { rows: 0 } });
  const corpusHash = corpusHashOf(rows);
  const spanIndex =
    options.spanIndex ??
    spanIndexFromData(
      buildSpanIndexFromTexts({
        documents: rows.map((r) => ({ contributionId: r.id, contributor: r.contributor, text: r.text })),
        tokenizer,
      }),
      tokenizer,
    );
  let bm25: Bm25Index | undefined;
  let retriever: HybridRetriever | undefined;
  let holders: Map<string, number[]> | undefined;
  const trace = { ...attributionTraceOptions, ...options.trace };
  const lexical = () => {
    bm25 ??= createBm25Index(rows);
    holders ??= termHolders(bm25);
    return { bm25, holders };
  };
  const promptFocus = (prompt: string): PromptFocus => ({
    terms: terms(prompt),
    holders: lexical().holders,
    documents: rows.length,
    contributorOf: (d) => at(rows, d).contributor,
    passageLength: 4 * trace.minSpanLength,
  });
  return {
    rows,
    corpusHash,
    spanIndex,
    retrieve(query, k) {
      checkText('query', query);
      retriever ??= createHybridRetriever(
        rows.map((r) => r.text),
        { wordNet: bundledWordNet(), vectors: bundledWordVectors() },
      );
      return retriever.search(query, k).map((h) => ({ ...at(rows, h.document), score: h.score }));
    },
    async attribute(input) {
      const prompt = input.prompt ?? '';
      checkText('output', input.output);
      checkText('prompt', prompt);
      if (input.methods.length === 0)
        throw new BaseError('INVALID_ARGUMENT', 'Name at least one attribution method', {
          details: { field: 'method' },
        });
      const evidence: Evidence[] = [];
      let spans: AttributionResult['spans'] = [];
      for (const method of attributionMethods.filter((m) => input.methods.includes(m))) {
        if (method === 'span') {
          const tokens = tokenizer.encode(input.output);
          const credit = await spanIndex.credit(tokens, trace);
          evidence.push(spanEvidence(credit, prompt.trim() === '' ? undefined : promptFocus(prompt)));
          spans = credit.spans.map((s) => ({
            start: s.start,
            end: s.end,
            text: tokenizer.decode?.(Array.from(tokens).slice(s.start, s.end)) ?? '',
            contributionIds: s.documents.map((d) => at(rows, d).id),
          }));
        } else if (method === 'rag') {
          const { bm25: index, holders: held } = lexical();
          const copies = await spanIndex.copies(trace.copyContainment);
          const corpus = {
            index,
            holders: held,
            contributorOf: (d: number) => at(rows, d).contributor,
            originalOf: copies.originalOf,
            sharedSpanScale: trace.sharedSpanScale,
            maxSpanContributors: trace.maxSpanContributors,
          };
          const query = prompt.trim() === '' ? input.output : prompt;
          evidence.push(ragEvidence(corpus, query, input.output, options.ragTopK ?? 3));
        } else {
          const gradient = input.gradient ?? options.gradient;
          if (!gradient)
            throw new BaseError(
              'INVALID_ARGUMENT',
              'The gradient method needs a model with stored per-example gradients (pass --training-receipt CID of the model)',
              { details: { field: 'method', method } },
            );
          const scores = await gradient({ prompt, output: input.output });
          if (scores.length !== rows.length)
            throw new BaseError(
              'INTERNAL',
              `Gradient scores cover ${scores.length} rows, the corpus has ${rows.length}`,
              {
                details: { scores: scores.length, rows: rows.length },
              },
            );
          evidence.push(gradientEvidence(scores));
        }
      }
      return combineEvidence({ documents: rows, evidence, dataNet: options.dataNet ?? null, corpusHash, spans });
    },
  };
}
