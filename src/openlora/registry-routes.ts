/** What ModelRegistry holds, as this node mirrors it: records as they are, the protocol's codecs write the wire. */
import type { FastifyInstance } from 'fastify';
import { openloraApi, serve, type ModelRecord as WireModelRecord } from '../protocol/index.js';
import type { ModelRecord, ModelRegistryMirror } from './registry.js';

/** The mirror's record and the protocol's must describe the same model (checked when compiling). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const recordsAgree: Same<ModelRecord, WireModelRecord> = true;
void recordsAgree;

export function registryRoutes(mirror: ModelRegistryMirror) {
  return async (app: FastifyInstance) => {
    serve(app, openloraApi.listRegisteredModels, async () => {
      await mirror.sync();
      return { items: await mirror.list() };
    });
    serve(app, openloraApi.getRegisteredModel, async (req) => mirror.resolve(req.params.model));
  };
}
