import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AttributionResult,
  createAttributionCache,
  createAttributionRuntime,
  serializeAttribution,
} from '../attribution/index.js';
import { createAttributionAudit } from './attribution-audit.js';

const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;
const who = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'];
const texts = [
  'The lighthouse keeper of Varnholm counted exactly forty-two gulls every dawn.',
  'Copper kettles from Ostrava were traded for saffron at the autumn fair.',
];
const exportText = texts
  .map(
    (text, i) =>
      `${JSON.stringify({ id: id(i + 1), contributor: who[i], cid: `bafk${i}`, content: { text }, text })}\n`,
  )
  .join('');
const answer = { prompt: 'Who counted the gulls?', output: 'The lighthouse keeper of Varnholm counted gulls.' };

/** A node's public API as the auditor reads it: stored attributions by request id, and the version's export. */
const stored = new Map<string, AttributionResult>();
let server: Server;
let url: string;
const cache = createAttributionCache();

beforeAll(async () => {
  server = createServer((req, res) => {
    const requestId = req.url?.replace('/v1/attributions/', '') ?? '';
    const served = stored.get(requestId);
    if (served) {
      // GET /v1/attributions/:requestId as the node answers it (settlementApi.getAttribution).
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          requestId,
          receiptId: id(1000),
          attributionHash: id(1001),
          matchesReceipt: true,
          attribution: served,
        }),
      );
    } else if (req.url === '/v1/datanets/7/versions/2/export') {
      res.end(exportText);
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no ${req.url}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // What the node stored: the runtime over its own export.
  const node = createAttributionRuntime({ cache, readExport: async () => exportText, readBlob: async () => null });
  const result = await node.attribute({ dataNet: { id: '7', version: 2, root: id(99) }, ...answer });
  stored.set('cmpl-1', result);
  stored.set('cmpl-2', { ...result, unattributedPpm: result.unattributedPpm + 1 });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('attribution audit', () => {
  it('recomputes a stored attribution from the public API to the same bytes, and says where a tampered one differs', async () => {
    const audit = createAttributionAudit(url, createAttributionCache({ readBaseModel: cache.base }));
    try {
      const ok = await audit.verify({ requestId: 'cmpl-1', ...answer });
      expect(ok).toMatchObject({ matches: true, matchesReceipt: true, firstDifference: -1 });
      expect(serializeAttribution(ok.recomputed)).toBe(serializeAttribution(ok.stored));
      const bad = await audit.verify({ requestId: 'cmpl-2', ...answer });
      expect(bad.matches).toBe(false);
      expect(serializeAttribution(bad.stored).slice(bad.firstDifference)).toMatch(/^\d+,"version":2\}$/);
    } finally {
      await audit.dispose();
    }
  });
});
