/**
 * DataNet routes of the node API (registered by src/node), declared in src/protocol/http/datanets.ts: the
 * declarations validate each request and encode each answer (ids, nonces and blocks as decimal strings, times as
 * ISO strings), so the handlers return the service's objects as they are.
 */
import type { FastifyInstance } from 'fastify';
import { datanetsApi, serve } from '../protocol/index.js';
import type { DataNetService } from './service.js';

export function dataNetRoutes(service: DataNetService) {
  return async (app: FastifyInstance) => {
    serve(app, datanetsApi.registerDataNet, async (req) => {
      await service.register(req.body.dataNetId, req.body.metadata);
      return service.get(req.body.dataNetId);
    });

    serve(app, datanetsApi.listDataNets, async () => ({ items: await service.list() }));

    serve(app, datanetsApi.getDataNet, async (req) => service.get(req.params.id));

    serve(app, datanetsApi.submitContributions, async (req) => ({
      results: await service.submit(req.params.id, req.body.contributions),
    }));

    serve(app, datanetsApi.listContributions, async (req) =>
      service.contributions(req.params.id, {
        status: req.query.status,
        after: req.query.after,
        limit: req.query.limit,
      }),
    );

    serve(app, datanetsApi.submitReviews, async (req) => ({
      results: await service.review(req.params.id, req.body.reviews),
    }));

    serve(app, datanetsApi.listReviews, async (req) => ({
      items: await service.auditLog(req.params.id, {
        ...(req.query.after ? { after: req.query.after } : {}),
        ...(req.query.limit ? { limit: req.query.limit } : {}),
      }),
    }));

    // The draft's manifest is stored by CID; the answer (the declared version view) leaves it out.
    serve(app, datanetsApi.prepareVersion, async (req) => service.prepareVersion(req.params.id));

    serve(app, datanetsApi.listVersions, async (req) => ({ items: await service.listVersions(req.params.id) }));

    serve(app, datanetsApi.getVersion, async (req) => {
      await service.sync();
      return service.getVersion(req.params.id, req.params.version);
    });

    serve(app, datanetsApi.getManifest, async (req) => service.manifest(req.params.id, req.params.version));

    serve(app, datanetsApi.exportVersion, async (req, reply) => {
      const lines: string[] = [];
      for await (const line of service.exportVersion(req.params.id, req.params.version)) lines.push(line);
      return reply.type('application/x-ndjson').send(lines.join(''));
    });

    serve(app, datanetsApi.getContribution, async (req) => service.contribution(req.params.contributionId));

    serve(app, datanetsApi.getContributionContent, async (req) => service.content(req.params.contributionId));

    serve(app, datanetsApi.getProof, async (req) => service.proof(req.params.contributionId, req.query.version));

    serve(app, datanetsApi.withdrawContribution, async (req) => service.withdraw(req.params.contributionId, req.body));
  };
}
