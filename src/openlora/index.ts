export {
  type AdapterCache,
  type AdapterLease,
  type AdapterStatus,
  BASE,
  createAdapterCache,
  DEFAULT_CONTEXT_BYTES,
} from './adapters.js';
export { createMetrics, type Metrics } from './metrics.js';
export { openAiRoutes, servingAdminRoutes } from './openai-routes.js';
export {
  createModelRegistryMirror,
  type ModelRecord,
  type ModelRegistryMirror,
  type ModelVersionRecord,
} from './registry.js';
export { registryRoutes } from './registry-routes.js';
export { createScheduler, type Scheduler } from './scheduler.js';
export {
  createOpenLora,
  type InferenceRequest,
  type InferenceResult,
  newRequestId,
  type OpenLora,
  type RetrievalHook,
  type ServedModel,
} from './service.js';
