export {
  createModelRegistryMirror,
  type ModelRecord,
  type ModelRegistryMirror,
  type ModelVersionRecord,
} from './registry.js';
export { modelView, registryRoutes } from './registry-routes.js';
