export {
  createModelRegistryMirror,
  type ModelRecord,
  type ModelRegistryMirror,
  type ModelVersionRecord,
} from './registry.js';
