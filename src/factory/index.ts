export {
  createFactoryClient,
  type FactoryClient,
  type PublishInput,
  publishInputOf,
  publishModelOnChain,
} from './client.js';
export {
  batchAt,
  buildExamples,
  type ExportRow,
  parseExport,
  splitHeldOut,
  type TrainingExample,
  toBatch,
} from './dataset.js';
export { checkFits, type Estimate, estimateFineTune } from './estimate.js';
export type { FineTuneMetrics, FineTuneProgress, FineTuneResult } from './finetune.js';
export { assertModelName, isValidModelName, MODEL_NAME_PATTERN, MODEL_NAME_RULE } from './names.js';
export {
  type FineTuneRequest,
  fineTuneRequestSchema,
  type Hyper,
  hyperSchema,
  parseFineTuneRequest,
} from './request.js';
export { factoryRoutes } from './routes.js';
export {
  type BaseModelInfo,
  createFactoryService,
  type FactoryDeps,
  type FactoryService,
  FINE_TUNE,
  type JobView,
  jobView,
} from './service.js';
