export { openAiRoutes, servingAdminRoutes } from './openai-routes.js';
export { createModelRegistryMirror, type ModelRegistryMirror } from './registry.js';
export { registryRoutes } from './registry-routes.js';
export { createOpenLora, type InferenceResult, type OpenLora, type RetrievalHook } from './service.js';
