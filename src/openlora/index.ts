export type { OtherBases } from './bases.js';
export { openAiRoutes, parseChatRequest, parseCompletionRequest, servingAdminRoutes } from './openai-routes.js';
export { createModelRegistryMirror, type ModelRegistryMirror } from './registry.js';
export { registryRoutes } from './registry-routes.js';
export {
  createOpenLora,
  groundedPrompt,
  type InferenceResult,
  type OpenLora,
  type RetrievalHook,
} from './service.js';
