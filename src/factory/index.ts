export { createFactoryClient, publishInputOf, publishModelOnChain } from './client.js';
export { estimateFineTune } from './estimate.js';
export type { FineTuneMetrics, FineTuneResult } from './finetune.js';
export { isValidModelName } from './names.js';
export { factoryRoutes } from './routes.js';
export { createFactoryService, type FactoryService } from './service.js';
