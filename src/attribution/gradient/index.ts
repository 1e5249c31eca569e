/** Gradient influence (projected per-example LoRA gradients with a damped curvature) and TracIn, for PoA. */
export {
  decodeGradientIndex,
  encodeGradientIndex,
  GRADIENT_INDEX_FILE,
  loadGradientIndex,
  saveGradientIndex,
} from './format.js';
export {
  type BuildGradientIndexInput,
  buildGradientIndex,
  createInfluenceScorer,
  GRADIENT_INDEX_VERSION,
  type GradientExample,
  type GradientIndex,
  type GradientIndexModel,
  type GradientModel,
  type GradientSequence,
  gradientIndexFromFeatures,
  gradientIndexSettings,
  gradientInfluence,
  gradientModelIdentity,
  type InfluenceScorer,
  positiveInfluenceByContributor,
  tracinInfluence,
} from './gradient-index.js';
export { createProjection, type Projection, project } from './projection.js';
