/** The span index of Proof of Attribution: suffix-array n-gram counts, ∞-gram matches and OLMoTrace-style tracing. */
export {
  type BuildSpanIndexInput,
  buildSpanIndex,
  buildSpanIndexFromTexts,
  type SpanIndexData,
  type TextDocument,
} from './build.js';
export type { CopyFinder } from './copies.js';
export {
  concatDocuments,
  type DocumentEntry,
  MAX_TOKEN_ID,
  SEPARATOR,
  type SpanDocument,
  sortingText,
  type TokenStream,
} from './corpus.js';
export {
  type CreditedSpan,
  defaultSpanCreditOptions,
  type SpanCredit,
  type SpanCreditOptions,
  type TokenCredit,
} from './credit.js';
export { suffixArrayDoubling } from './doubling.js';
export { SPAN_INDEX_VERSION, type SpanIndexHeader, spanIndexFiles, writeSpanIndex } from './format.js';
export { suffixArrayIs } from './sais.js';
export { type SuffixSorter, sortSuffixes } from './sorter.js';
export type { IndexSource, SpanIndexInfo } from './source.js';
export {
  createSpanIndex,
  type InfiniGram,
  type LongestMatch,
  MAX_QUERY_TOKENS,
  openSpanIndex,
  type SpanIndex,
  spanIndexFromData,
} from './span-index.js';
export {
  createRng,
  createZipf,
  type SyntheticCorpus,
  type SyntheticCorpusOptions,
  syntheticCorpus,
} from './synthetic.js';
export { createWordTokenizer, type SpanTokenizer } from './tokenizer.js';
export {
  defaultTraceOptions,
  type SpanOccurrence,
  type SpanTrace,
  type TracedSpan,
  type TraceOptions,
} from './trace.js';
