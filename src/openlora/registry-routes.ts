/** What ModelRegistry holds, as this node mirrors it. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ModelRecord, ModelRegistryMirror } from './registry.js';

export const modelView = (m: ModelRecord) => ({
  id: m.id.toString(),
  name: m.name,
  owner: m.owner,
  baseModelHash: m.baseModelHash,
  priceInPer1k: m.priceInPer1k.toString(),
  priceOutPer1k: m.priceOutPer1k.toString(),
  active: m.active,
  latest: {
    ...m.latest,
    dataNetId: m.latest.dataNetId?.toString() ?? null,
  },
});

export function registryRoutes(mirror: ModelRegistryMirror) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['registry'];
    app.get(
      '/v1/registry/models',
      { schema: { tags, summary: 'Registered models with prices and lineage' } },
      async () => {
        await mirror.sync();
        return { items: (await mirror.list()).map(modelView) };
      },
    );
    app.get(
      '/v1/registry/models/:model',
      {
        schema: {
          tags,
          summary: 'One registered model, by id or name',
          params: z.object({ model: z.string().min(1) }),
        },
      },
      async (req) => modelView(await mirror.resolve(req.params.model)),
    );
  };
}
