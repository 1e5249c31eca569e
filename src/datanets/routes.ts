/**
 * DataNet routes of the node API (registered by src/node). Every body is validated by zod and documented in the
 * OpenAPI document; amounts and ids that exceed JavaScript numbers travel as decimal or hex strings.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Hex } from 'viem';
import { z } from 'zod';
import type { ContributionView, DataNetSummary } from './queries.js';
import type { DataNetService } from './service.js';
import type { VersionInfo } from './versions.js';

const id = z.string().regex(/^\d+$/, 'expected a DataNet id (decimal)').transform(BigInt);
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex string');
const decimal = z.string().regex(/^\d+$/, 'expected a non-negative integer as a decimal string');
const tags = ['datanets'];

const dataNetView = (d: DataNetSummary) => ({
  id: d.id.toString(),
  owner: d.owner,
  treasury: d.treasury,
  metadataCid: d.metadataCid,
  metadata: d.metadata,
  schemaHash: d.schemaHash,
  licenseId: d.licenseId,
  bondAmount: d.bondAmount.toString(),
  forfeitBps: d.forfeitBps,
  curators: d.curators,
  counts: d.counts,
  latestVersion: d.latestVersion,
});

const contributionView = (c: ContributionView) => ({
  ...c,
  dataNetId: c.dataNetId.toString(),
  nonce: c.nonce.toString(),
  deadline: c.deadline.toString(),
  createdAt: c.createdAt.toISOString(),
  withdrawnAt: c.withdrawnAt?.toISOString() ?? null,
});

const versionView = (v: VersionInfo) => ({
  ...v,
  dataNetId: v.dataNetId.toString(),
  committedBlock: v.committedBlock?.toString() ?? null,
});

const submission = z.object({
  contributor: z.string().describe('address of the signer'),
  content: z.record(z.string(), z.unknown()).describe('the prepared (normalized, redacted) row that was signed'),
  contentHash: hex32,
  nonce: decimal,
  deadline: decimal.describe('unix seconds'),
  signature: z.string(),
  source: z.string().max(500).optional(),
});

const review = z.object({
  contributionId: hex32,
  approve: z.boolean(),
  spam: z.boolean().optional(),
  reason: z.string().max(2000),
  curator: z.string(),
  nonce: decimal,
  deadline: decimal,
  signature: z.string(),
});

export function dataNetRoutes(service: DataNetService) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/v1/datanets',
      {
        schema: {
          tags,
          summary: 'Register the metadata of a DataNet created on chain',
          description:
            'The document must hash to the metadata CID, schema hash and license id of DataNetRegistry.createDataNet.',
          body: z.object({ dataNetId: decimal, metadata: z.record(z.string(), z.unknown()) }),
        },
      },
      async (req) => {
        await service.register(BigInt(req.body.dataNetId), req.body.metadata);
        return dataNetView(await service.get(BigInt(req.body.dataNetId)));
      },
    );

    app.get('/v1/datanets', { schema: { tags, summary: 'List DataNets' } }, async () => ({
      items: (await service.list()).map(dataNetView),
    }));

    app.get(
      '/v1/datanets/:id',
      {
        schema: { tags, summary: 'One DataNet: settings, curators, counts, latest version', params: z.object({ id }) },
      },
      async (req) => dataNetView(await service.get(req.params.id)),
    );

    app.post(
      '/v1/datanets/:id/contributions',
      {
        schema: {
          tags,
          summary: 'Submit signed contributions (up to 1000)',
          description:
            'Each row is re-run through the DataNet pipeline and must give the signed content hash. The reply has one result per row: accepted, already_submitted, duplicate, near_duplicate or rejected (with reason and message). Accepted rows are durable when the reply is sent.',
          params: z.object({ id }),
          body: z.object({ contributions: z.array(submission).min(1) }),
        },
      },
      async (req) => ({ results: await service.submit(req.params.id, req.body.contributions) }),
    );

    app.get(
      '/v1/datanets/:id/contributions',
      {
        schema: {
          tags,
          summary: 'Contributions in ingest order (status=pending is the review queue)',
          params: z.object({ id }),
          querystring: z.object({
            status: z.enum(['pending', 'approved', 'rejected', 'withdrawn']).optional(),
            after: decimal.optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
        },
      },
      async (req) => {
        const page = await service.contributions(req.params.id, {
          status: req.query.status,
          after: req.query.after === undefined ? undefined : BigInt(req.query.after),
          limit: req.query.limit,
        });
        return { items: page.items.map(contributionView), next: page.next?.toString() ?? null };
      },
    );

    app.post(
      '/v1/datanets/:id/reviews',
      {
        schema: {
          tags,
          summary: 'Approve or reject contributions (curator-signed)',
          params: z.object({ id }),
          body: z.object({ reviews: z.array(review).min(1).max(1000) }),
        },
      },
      async (req) => ({ results: await service.review(req.params.id, req.body.reviews) }),
    );

    app.get(
      '/v1/datanets/:id/reviews',
      {
        schema: {
          tags,
          summary: 'Audit log of curator decisions',
          params: z.object({ id }),
          querystring: z.object({
            after: decimal.optional(),
            limit: z.coerce.number().int().min(1).max(1000).optional(),
          }),
        },
      },
      async (req) => ({
        items: (
          await service.auditLog(req.params.id, {
            ...(req.query.after ? { after: BigInt(req.query.after) } : {}),
            ...(req.query.limit ? { limit: req.query.limit } : {}),
          })
        ).map((r) => ({ ...r, id: r.id.toString(), createdAt: r.createdAt.toISOString() })),
      }),
    );

    app.post(
      '/v1/datanets/:id/versions',
      {
        schema: {
          tags,
          summary: 'Freeze the approved contributions into the next version (a draft until committed on chain)',
          description:
            'Returns the version number, Merkle root, count and manifest CID to pass to DataNetRegistry.commitVersion.',
          params: z.object({ id }),
        },
      },
      async (req) => {
        const { manifest: _manifest, ...info } = await service.prepareVersion(req.params.id);
        return versionView(info);
      },
    );

    app.get(
      '/v1/datanets/:id/versions',
      { schema: { tags, summary: 'Versions (drafts and published)', params: z.object({ id }) } },
      async (req) => ({
        items: (await service.listVersions(req.params.id)).map(versionView),
      }),
    );

    app.get(
      '/v1/datanets/:id/versions/:version',
      {
        schema: {
          tags,
          summary: 'One version; reads the chain first, so a just-committed draft shows as published',
          params: z.object({ id, version: z.coerce.number().int().min(1) }),
        },
      },
      async (req) => {
        await service.sync();
        return versionView(await service.getVersion(req.params.id, req.params.version));
      },
    );

    app.get(
      '/v1/datanets/:id/versions/:version/manifest',
      {
        schema: {
          tags,
          summary: 'The content-addressed manifest of a version',
          params: z.object({ id, version: z.coerce.number().int().min(1) }),
        },
      },
      async (req) => service.manifest(req.params.id, req.params.version),
    );

    app.get(
      '/v1/datanets/:id/versions/:version/export',
      {
        schema: {
          tags,
          summary: 'A published version as JSON lines {id, contributor, cid, content, text} for training',
          params: z.object({ id, version: z.coerce.number().int().min(1) }),
        },
      },
      async (req, reply) => {
        const lines: string[] = [];
        for await (const line of service.exportVersion(req.params.id, req.params.version)) lines.push(line);
        return reply.type('application/x-ndjson').send(lines.join(''));
      },
    );

    app.get(
      '/v1/contributions/:contributionId',
      {
        schema: {
          tags,
          summary: 'One contribution: status, versions containing it, and from which version on it is absent',
          params: z.object({ contributionId: hex32 }),
        },
      },
      async (req) => contributionView(await service.contribution(req.params.contributionId as Hex)),
    );

    app.get(
      '/v1/contributions/:contributionId/content',
      {
        schema: {
          tags,
          summary: 'The stored content of a live contribution',
          params: z.object({ contributionId: hex32 }),
        },
      },
      async (req) => service.content(req.params.contributionId as Hex),
    );

    app.get(
      '/v1/contributions/:contributionId/proof',
      {
        schema: {
          tags,
          summary: 'Merkle inclusion proof, checked offline and through DataNetRegistry.verifyContribution',
          params: z.object({ contributionId: hex32 }),
          querystring: z.object({ version: z.coerce.number().int().min(1).optional() }),
        },
      },
      async (req) => service.proof(req.params.contributionId as Hex, req.query.version),
    );

    app.post(
      '/v1/contributions/:contributionId/withdraw',
      {
        schema: {
          tags,
          summary:
            'Withdraw a contribution (contributor-signed): tombstoned, content deleted, absent from the next version on',
          params: z.object({ contributionId: hex32 }),
          body: z.object({ nonce: decimal, deadline: decimal, signature: z.string() }),
        },
      },
      async (req) => {
        const r = await service.withdraw(req.params.contributionId as Hex, req.body);
        return { ...r, withdrawnAt: r.withdrawnAt.toISOString() };
      },
    );
  };
}
