export { attributionTraceOptions, corpusHashOf, createCorpusAttributor, parseMethods } from './attributor.js';
export { type CorpusRow, readCorpus } from './corpus-file.js';
export { runGamingCases } from './gaming-cases.js';
export {
  buildGradientIndex,
  createInfluenceScorer,
  encodeGradientIndex,
  gradientIndexSettings,
  tracinInfluence,
} from './gradient/index.js';
export {
  createGradientScorer,
  gradientQuerySequence,
  gradientScorerFromReceipt,
  gradientTokenizerId,
} from './gradient-scorer.js';
export { modelSpanTokenizer, spanTokenizerOf } from './model-tokenizer.js';
export { createBm25Index, writeWordVectors } from './rag/index.js';
export {
  type AttributionMethod,
  type AttributionResult,
  attributionHash,
  PPM,
  serializeAttribution,
  toPpm,
} from './result.js';
export {
  type AttributionCache,
  contextBlock,
  createAttributionCache,
  createAttributionRuntime,
  groundedPrompt,
  servedAttributionMethods,
  type VersionRef,
} from './runtime.js';
export {
  buildSpanIndex,
  buildSpanIndexFromTexts,
  concatDocuments,
  createRng,
  createWordTokenizer,
  openSpanIndex,
  type SpanDocument,
  type SpanTokenizer,
  sortingText,
  spanIndexFiles,
  suffixArrayDoubling,
  syntheticCorpus,
  writeSpanIndex,
} from './span/index.js';
