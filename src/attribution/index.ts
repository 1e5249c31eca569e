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
export * from './span/index.js';
