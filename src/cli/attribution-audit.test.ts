import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Hex, zeroHash } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pinnedExport } from '../../test/fixtures/pinned-export.js';
import {
  type AttributionResult,
  attributionHash,
  createAttributionCache,
  createAttributionRuntime,
  type VersionRef,
} from '../attribution/index.js';
import { keccak256, receiptDomain, receiptTypes } from '../core/index.js';
import { createTokenizer } from '../engine/index.js';
import { groundedPrompt, parseChatRequest } from '../openlora/index.js';
import { type NodeReceipt, nodeReceipt, type ReceiptMessage } from '../protocol/index.js';
import { requestHashOf, verifyReceipt } from '../settlement/index.js';
import { type AuditChain, createAttributionAudit } from './attribution-audit.js';

const who = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'] as const;
const texts = [
  'The lighthouse keeper of Varnholm counted exactly forty-two gulls every dawn.',
  'Copper kettles from Ostrava were traded for saffron at the autumn fair.',
  'Marguerite repaired violins with glue made from quince seeds.',
];
const rows = texts.map((text, i) => ({ contributor: who[i % 2] ?? who[0], text }));
const withdrawnAt = new Date('2026-03-01T00:00:00Z');
/** Row 0 (the gulls) is withdrawn after the first answer was served. */
const version = pinnedExport(7n, rows, new Map([[0, withdrawnAt]]));
const dataNet: VersionRef = { id: '7', version: 2, root: version.root };
const nodeKey = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
const domain = { chainId: 31337, distributor: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Hex };
const chain: AuditChain = {
  receiptDomain: domain,
  committedVersion: async () => ({ root: version.root, count: 3n }),
};

/** Served answers: the request body as sent, the output, and when (before or after the withdrawal). */
const system = { role: 'system', content: 'Answer from the context.' } as const;
const asked = {
  before: { body: { model: 'm', messages: [{ role: 'user' as const, content: 'Who counted the gulls?' }] } },
  after: {
    body: {
      model: 'm',
      max_tokens: 20,
      seed: 5,
      retrieval: true,
      messages: [system, { role: 'user' as const, content: 'Who repaired violins with quince?' }],
    },
  },
};
const outputs = {
  before: 'The lighthouse keeper of Varnholm counted exactly forty-two gulls.',
  after: 'Marguerite repaired violins with glue made from quince seeds.',
};

const receipts = new Map<string, NodeReceipt>();
const attributions = new Map<string, AttributionResult>();
let exportText = version.before;
let server: Server;
let url: string;
const cache = createAttributionCache();

/** What the node does when it serves `requestId`: retrieve, attribute, sign the receipt. */
async function serve(requestId: string, which: 'before' | 'after') {
  const node = createAttributionRuntime({ cache, readExport: async () => exportText, readBlob: async () => null });
  const parsed = parseChatRequest(asked[which].body);
  const retrieved = parsed.options.retrieval
    ? await node.retrieve(dataNet, parsed.options.retrieval.query, parsed.options.retrieval.topK)
    : null;
  const prompt = groundedPrompt(parsed.prompt, retrieved);
  const attribution = await node.attribute({ dataNet, prompt, output: outputs[which], retrieval: retrieved !== null });
  const o = parsed.options;
  const sampling = {
    maxTokens: parsed.maxTokens,
    temperature: o.temperature ?? 0,
    topP: o.topP ?? 1,
    seed: o.seed ?? 0,
  };
  const signed: ReceiptMessage = {
    requestHash: requestHashOf({ requestId, model: 'm', prompt, ...sampling }),
    modelId: 1n,
    adapterHash: zeroHash,
    dataNetRoot: version.root,
    inputTokens: 10n,
    outputTokens: 10n,
    fee: 1n,
    attributionHash: attributionHash(attribution),
    outputHash: keccak256(outputs[which]),
    channelId: 1n,
    chargedAfter: 1n,
  };
  const typed = {
    domain: { ...receiptDomain, chainId: domain.chainId, verifyingContract: domain.distributor },
    types: receiptTypes,
    primaryType: 'Receipt',
    message: signed,
  } as const;
  const { hashTypedData } = await import('viem');
  const receipt: NodeReceipt = {
    id: hashTypedData(typed),
    requestId,
    model: 'm',
    modelOwner: null,
    dataNet: { id: '7', version: 2, root: version.root, treasury: null },
    fee: {
      inputTokens: 10,
      outputTokens: 10,
      tokenFee: 1n,
      platform: 0n,
      fee: 1n,
      net: 1n,
      owner: 0n,
      stakers: 0n,
      contributors: 1n,
    },
    attribution,
    signed,
    node: nodeKey.address,
    signature: await nodeKey.signTypedData(typed),
    epoch: null,
    createdAt: new Date(),
  };
  expect(await verifyReceipt(domain, { ...receipt, message: signed })).toBe(true);
  receipts.set(requestId, receipt);
  attributions.set(requestId, attribution);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '';
    const send = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const [, kind, id] = /^\/v1\/(attributions|receipts)\/(.+)$/.exec(path) ?? [];
    const receipt = id ? receipts.get(id) : undefined;
    const attribution = id ? attributions.get(id) : undefined;
    if (kind === 'receipts' && receipt) send({ ...z.encode(nodeReceipt, receipt), verified: true });
    else if (kind === 'attributions' && receipt && attribution)
      send({
        requestId: id,
        receiptId: receipt.id,
        attributionHash: receipt.signed.attributionHash,
        matchesReceipt: true,
        attribution,
      });
    else if (path === '/v1/datanets/7/versions/2/export') res.end(exportText);
    else {
      res.statusCode = 404;
      send({ error: { code: 'NOT_FOUND', message: `no ${path}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await serve('cmpl-before', 'before');
  exportText = version.text; // the gulls row withdrawn
  await serve('cmpl-after', 'after');
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const auditor = () =>
  createAttributionAudit(url, { cache: createAttributionCache({ readBaseModel: cache.base }), chain });

describe('attribution audit', () => {
  it('verifies an answer served after a withdrawal, with retrieval and a system message, from the request body', async () => {
    const r = await auditor().verify({ requestId: 'cmpl-after', output: outputs.after, ...asked.after });
    expect(Object.values(r.checks).map((c) => c.status)).toEqual(Array(7).fill('ok'));
    expect(r.stored.methods).toEqual(['span', 'rag']);
    expect(r.stored.contributions.map((c) => c.id)).not.toContain(version.ids[0]);
    expect(r).toMatchObject({ matches: true, matchesReceipt: true, firstDifference: -1 });
  });

  it('verifies from the token ids of the prompt read (retrieval context included), decoded exactly', async () => {
    const node = createAttributionRuntime({ cache, readExport: async () => version.text, readBlob: async () => null });
    const parsed = parseChatRequest(asked.after.body);
    const query = parsed.options.retrieval;
    if (!query) throw new Error('asked with retrieval');
    const prompt = groundedPrompt(parsed.prompt, await node.retrieve(dataNet, query.query, query.topK));
    const promptTokens = createTokenizer(cache.base().vocab).encode(prompt);
    const r = await auditor().verify({ requestId: 'cmpl-after', output: outputs.after, promptTokens });
    expect(r.checks.attribution.status).toBe('ok');
    expect(r.checks.requestHash.status).toBe('not checked');
  });

  it('a node that signs one output and shows another, or is asked with another request: outputHash and requestHash differ', async () => {
    const r = await auditor().verify({
      requestId: 'cmpl-after',
      output: `${outputs.after} Also cats.`,
      body: { ...asked.after.body, seed: 6 },
    });
    expect(r.checks.outputHash.status).toBe('differs');
    expect(r.checks.requestHash).toMatchObject({
      status: 'differs',
      detail: expect.stringMatching(/^the request rebuilt hashes to 0x/),
    });
    // Without the body the sampling is unknown: the audit says it did not check, never that it matched.
    const m = await auditor().verify({
      requestId: 'cmpl-after',
      output: outputs.after,
      messages: asked.after.body.messages,
    });
    expect(m.checks.requestHash.status).toBe('not checked');
    expect(m.checks.attribution.status).toBe('ok');
  });

  it('a node that shifts one ppm in its stored result: the receipt no longer signs it and the recomputation differs', async () => {
    const stored = attributions.get('cmpl-after');
    if (!stored) throw new Error('served');
    attributions.set('cmpl-tampered', { ...stored, unattributedPpm: stored.unattributedPpm + 1 });
    receipts.set('cmpl-tampered', { ...(receipts.get('cmpl-after') as NodeReceipt), requestId: 'cmpl-tampered' });
    const r = await auditor().verify({
      requestId: 'cmpl-tampered',
      output: outputs.after,
      messages: asked.after.body.messages,
    });
    expect(r.checks.signedAttribution.status).toBe('differs');
    expect(r.checks.attribution.status).toBe('differs');
    expect(r.matchesReceipt).toBe(false);
  });

  it("a node that pays RAG evidence on an answer served without retrieval: its methods are not a served answer's", async () => {
    const before = attributions.get('cmpl-before');
    if (!before) throw new Error('served');
    const node = createAttributionRuntime({
      cache,
      readExport: async () => version.before,
      readBlob: async () => null,
    });
    const prompt = parseChatRequest(asked.before.body).prompt;
    const withRag = await node.attribute({ dataNet, prompt, output: outputs.before, methods: ['span', 'rag'] });
    attributions.set('cmpl-rag', withRag);
    const r0 = receipts.get('cmpl-before') as NodeReceipt;
    receipts.set('cmpl-rag', {
      ...r0,
      requestId: 'cmpl-rag',
      signed: { ...r0.signed, attributionHash: attributionHash(withRag) },
    });
    const r = await auditor().verify({
      requestId: 'cmpl-rag',
      output: outputs.before,
      ...asked.before,
      keptExport: version.before,
    });
    expect(r.checks.attribution).toEqual({
      status: 'differs',
      detail: 'the node attributed by span, rag; an answer served without retrieval is attributed by span',
    });
  });

  it('a node whose export leaves the withdrawn row out: refused against the root committed on chain', async () => {
    const honest = exportText;
    exportText = honest
      .split('\n')
      .filter((l) => !l.includes('"withdrawn":true'))
      .join('\n');
    try {
      await expect(
        auditor().verify({ requestId: 'cmpl-after', output: outputs.after, ...asked.after }),
      ).rejects.toThrow('The export of DataNet 7 version 2 has 2 rows; the version committed on chain has 3');
    } finally {
      exportText = honest;
    }
  });

  it('an answer served before a withdrawal: not recomputed without the withdrawn text (saying which), recomputed from a kept export, a forged one refused', async () => {
    const input = { requestId: 'cmpl-before', output: outputs.before, ...asked.before };
    const gone = await auditor().verify(input);
    expect(gone.checks.corpus).toEqual({
      status: 'not checked',
      detail: `no row set with known text has the result's corpusHash; it may have been served before the withdrawal of ${version.ids[0]}, whose text is gone: pass an export kept from then (--kept-export)`,
    });
    expect(gone.checks.attribution.status).toBe('not checked');
    expect(gone.matches).toBe(false);
    const kept = await auditor().verify({ ...input, keptExport: version.before });
    expect(Object.values(kept.checks).map((c) => c.status)).toEqual(Array(7).fill('ok'));
    expect(kept.checks.corpus.detail).toBe(
      `the version's rows before the withdrawal of ${version.ids[0]}, their text from the kept export`,
    );
    const forged = version.before.replace('forty-two gulls', 'forty-three gulls');
    await expect(auditor().verify({ ...input, keptExport: forged })).rejects.toThrow(
      `The kept export's row ${version.ids[0]} is not the content its leaf commits to`,
    );
  });
});
