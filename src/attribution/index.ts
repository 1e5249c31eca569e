export {
  type AttributeInput,
  attributionTraceOptions,
  type CorpusAttributor,
  type CorpusAttributorOptions,
  createCorpusAttributor,
  type GradientScorer,
  MAX_ATTRIBUTED_CHARS,
  parseMethods,
} from './attributor.js';
export { type CorpusDocument, combineEvidence } from './combine.js';
export { type CorpusRow, MAX_ROW_CHARS, parseCorpus, readCorpus } from './corpus-file.js';
export { type Evidence, gradientEvidence, ragEvidence, spanEvidence } from './evidence.js';
export * from './gradient/index.js';
export {
  createGradientScorer,
  type GradientArtifacts,
  gradientScorerFromReceipt,
  gradientTokenizerId,
  loadGradientArtifacts,
} from './gradient-scorer.js';
export { modelSpanTokenizer, spanTokenizerOf } from './model-tokenizer.js';
export * from './rag/index.js';
export {
  type AttributionMethod,
  type AttributionResult,
  attributionHash,
  attributionMethods,
  type ContributionShare,
  checkAttribution,
  PPM,
  serializeAttribution,
  toPpm,
} from './result.js';
export {
  type AttributeAnswer,
  type AttributionCache,
  type AttributionCacheOptions,
  type AttributionRuntime,
  type AttributionRuntimeOptions,
  createAttributionCache,
  createAttributionRuntime,
  type GradientScorerHandle,
  servedAttributionMethods,
  type VersionRef,
} from './runtime.js';
export * from './span/index.js';
