/** The node's own routes: liveness, the deployment it uses, and the content-addressed blob store. */
import { z } from 'zod';
import { address, cid, decimal, hex } from '../primitives.js';
import { route } from '../route.js';

const tags = ['node'] as const;

export const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  chain: z.object({ ok: z.boolean(), chainId: z.number(), blockNumber: z.string().nullable() }),
  store: z.object({ ok: z.boolean(), dialect: z.string() }),
});
export type Health = z.output<typeof healthBody>;

export const health = route({
  method: 'GET',
  path: '/health',
  tags,
  summary: 'Liveness and dependencies',
  description: 'Checks the chain (latest block) and the database. 503 when either is down.',
  response: healthBody,
  otherResponses: { 503: healthBody },
});

export const deploymentInfo = z.object({
  chainId: z.number(),
  rpcUrl: z.string(),
  block: z.number(),
  contracts: z.record(z.string(), address),
  allocations: z.array(
    z.object({ label: z.string(), recipient: address, beneficiary: address, amount: decimal, vested: z.boolean() }),
  ),
});
export type DeploymentInfo = z.output<typeof deploymentInfo>;

export const getDeployment = route({
  method: 'GET',
  path: '/v1/deployment',
  tags,
  summary: 'The protocol deployment this node uses',
  description: 'Chain id, contract addresses, the deployment block and the initial OPEN allocation.',
  response: deploymentInfo,
});

export const storedBlob = z.object({ cid, sha256: hex, bytes: z.number().int().nonnegative() });

export const putBlob = route({
  method: 'POST',
  path: '/v1/blobs',
  tags,
  status: 201,
  summary: 'Store content-addressed bytes (application/octet-stream)',
  description: 'Returns the CID and sha-256; storing the same bytes twice is a no-op.',
  response: storedBlob,
});

export const getBlob = route({
  method: 'GET',
  path: '/v1/blobs/:cid',
  tags,
  summary: 'Content-addressed bytes by CID (manifests, receipts, adapters)',
  params: z.object({ cid }),
  contentType: 'application/octet-stream',
  response: z.string().meta({ format: 'binary' }),
});
