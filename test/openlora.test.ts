/**
 * OpenLoRA through the official `openai` npm client, unmodified (its requests answered in process by the
 * server), on every store backend: listing, chat and text completions, streaming and not, errors in OpenAI's
 * shape, adapters fetched just in time and refused when missing or altered, back-pressure under a burst, metering.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import type { HDAccount, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCorpusAttributor, createWordTokenizer } from '../src/attribution/index.js';
import { ModelRegistryArtifact, sendTx } from '../src/chain/index.js';
import { silentLogger } from '../src/core/index.js';
import {
  adapterToGguf,
  artifactHash,
  baseModelFromGguf,
  bundledBaseModel,
  createLlamaRuntime,
  initLoraWeights,
  type LlamaRuntime,
  loraTargets,
} from '../src/engine/index.js';
import { createServer } from '../src/node/index.js';
import {
  createModelRegistryMirror,
  createOpenLora,
  type OpenLora,
  openAiRoutes,
  type RetrievalHook,
  servingAdminRoutes,
} from '../src/openlora/index.js';
import { type BlobStore, createFsBlobStore, type Db, migrate, migrations } from '../src/store/index.js';
import { startTestChain, type TestChain } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { injectFetch } from './fixtures/inject.js';

let chain: TestChain;
let runtime: LlamaRuntime;
let blobs: BlobStore;
let blobDir: string;
const baseHash = artifactHash(new Uint8Array(readFileSync(bundledBaseModel.path))).sha256;
const zero = `0x${'00'.repeat(32)}` as Hex;

async function register(name: string, adapterHash: Hex) {
  await sendTx(chain.clients, chain.users[0] as HDAccount, {
    address: chain.deployment.contracts.ModelRegistry,
    abi: ModelRegistryArtifact.abi,
    functionName: 'registerModel',
    args: [
      name,
      baseHash,
      { adapterHash, dataNetId: 0n, dataNetVersion: 0n, dataNetRoot: zero, configHash: zero, receiptCID: '' },
      1n,
      2n,
    ],
  });
}

// The chain (models registered once), the stored adapters and the base model are the same for every backend;
// each backend gets its own database, OpenLoRA and server.
beforeAll(async () => {
  chain = await startTestChain();
  blobDir = mkdtempSync(join(tmpdir(), 'openlora-blobs-'));
  blobs = createFsBlobStore(blobDir);
  runtime = await createLlamaRuntime({ modelPath: bundledBaseModel.path });

  const config = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights.config;
  const bytes = adapterToGguf(
    initLoraWeights(config, { rank: 4, alpha: 8, dropout: 0, targets: [...loraTargets] }, 5, 0.5),
    { name: 'strong' },
  );
  await blobs.put(bytes);
  await register('strong', artifactHash(bytes).sha256);
  await register('missing', `0x${'12'.repeat(32)}`);
  const tampered = adapterToGguf(initLoraWeights(config, { rank: 2, alpha: 4, dropout: 0, targets: ['q'] }, 6, 0.5), {
    name: 'tampered',
  });
  const tamperedCid = await blobs.put(tampered);
  await register('tampered', artifactHash(tampered).sha256);
  // Alter the stored file behind the blob store's back.
  const shard = join(blobDir, tamperedCid.slice(7, 9), tamperedCid.slice(9, 11));
  writeFileSync(
    join(shard, readdirSync(shard).find((f) => f === tamperedCid) as string),
    new Uint8Array(tampered.length),
  );
});

afterAll(async () => {
  await runtime?.dispose();
  await chain?.anvil.stop();
});

describe.each(storeBackends())('on $name', (backend) => {
  let db: Db;
  let openlora: OpenLora;
  let server: FastifyInstance;
  let client: OpenAI;
  let retrieval: RetrievalHook | undefined;

  beforeAll(async () => {
    db = await backend.open();
    await migrate(db, migrations);
    const mirror = createModelRegistryMirror(db, chain.clients, chain.deployment);
    openlora = createOpenLora({
      runtime,
      blobs,
      db,
      mirror,
      base: { name: bundledBaseModel.name, sha256: baseHash },
      maxQueue: 3,
      maxActive: 1,
      sequencesPerContext: 1,
      log: silentLogger(),
      // Retrieval is asked of whatever hook a test sets (the service takes its hooks when it is built).
      retrieve: (r) => (retrieval ? retrieval(r) : Promise.resolve(null)),
    });
    server = await createServer(
      { db, clients: chain.clients, deployment: chain.deployment, log: silentLogger(), blobs },
      [openAiRoutes(openlora), servingAdminRoutes(openlora, () => {})],
    );
    // In process: the openai client's requests are answered by server.inject, no socket.
    client = new OpenAI({
      apiKey: 'unused',
      baseURL: 'http://node.test/v1',
      maxRetries: 0,
      fetch: injectFetch(server),
    });
  });

  afterAll(async () => {
    await server?.close();
    await openlora?.close();
    await db?.close();
  });

  describe('OpenLoRA with the openai client', () => {
    it('lists the base model and the registered models with their prices', async () => {
      const models = await client.models.list();
      const ids = models.data.map((m) => m.id);
      expect(ids).toEqual(['tributary-base-4m', 'strong', 'missing', 'tampered']);
      expect((models.data[1] as unknown as { tributary: { priceInPer1k: string } }).tributary.priceInPer1k).toBe('1');
    });

    it('answers chat and text completions, with usage', async () => {
      const chat = await client.chat.completions.create({
        model: 'tributary-base-4m',
        max_tokens: 12,
        messages: [{ role: 'user', content: 'Define the word river.' }],
      });
      expect(chat.object).toBe('chat.completion');
      expect(typeof chat.choices[0]?.message.content).toBe('string');
      expect(chat.usage?.completion_tokens).toBeGreaterThan(0);
      expect(chat.usage?.total_tokens).toBe((chat.usage?.prompt_tokens ?? 0) + (chat.usage?.completion_tokens ?? 0));
      const text = await client.completions.create({ model: 'strong', prompt: 'dog (noun):', max_tokens: 10 });
      expect(text.choices[0]?.text.length).toBeGreaterThan(0);
    });

    it('grounds an answer in retrieved passages when asked, pricing and reporting what was read', async () => {
      const rows = [
        { id: 'r1', contributor: '0xaa', text: 'Rivers carry fresh water from mountains to the sea.' },
        { id: 'r2', contributor: '0xbb', text: 'Deserts receive little rain.' },
      ];
      const corpus = createCorpusAttributor({ rows, tokenizer: createWordTokenizer() });
      const queries: string[] = [];
      retrieval = async ({ query, topK }) => {
        queries.push(query);
        const hits = corpus.retrieve(query, topK);
        return {
          context: `Context:\n${hits.map((h) => `- ${h.text}`).join('\n')}`,
          citations: hits.map((h) => ({ id: h.id, contributor: h.contributor })),
        };
      };
      const ask = (grounded: boolean) =>
        client.chat.completions.create({
          model: 'tributary-base-4m',
          max_tokens: 4,
          messages: [{ role: 'user', content: 'Where do rivers go?' }],
          ...(grounded ? { retrieval: true } : {}),
        } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      const [plain, grounded] = [await ask(false), await ask(true)];
      expect(queries).toEqual(['Where do rivers go?']);
      expect((grounded as unknown as { tributary: { retrieved: unknown } }).tributary.retrieved).toEqual([
        { id: 'r1', contributor: '0xaa' },
      ]);
      expect(grounded.usage?.prompt_tokens).toBeGreaterThan((plain.usage?.prompt_tokens ?? 0) + 8);
    });

    it('streams, and the streamed text equals the non-streamed one (greedy)', async () => {
      const params = {
        model: 'strong',
        max_tokens: 16,
        messages: [{ role: 'user' as const, content: 'What is a river?' }],
      };
      const whole = await client.chat.completions.create(params);
      const stream = await client.chat.completions.create({
        ...params,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: unknown;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish ??= chunk.choices[0]?.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(whole.choices[0]?.message.content);
      expect(finish).toBe(whole.choices[0]?.finish_reason);
      expect(usage).toEqual(whole.usage);
    });

    it('stops at a stop sequence', async () => {
      const full = await client.completions.create({
        model: 'tributary-base-4m',
        prompt: 'dog (noun):',
        max_tokens: 20,
      });
      const word = (full.choices[0]?.text ?? '').trim().split(/\s+/)[1] as string;
      const cut = await client.completions.create({
        model: 'tributary-base-4m',
        prompt: 'dog (noun):',
        max_tokens: 20,
        stop: [word],
      });
      expect(cut.choices[0]?.text).toBe(
        (full.choices[0]?.text ?? '').slice(0, (full.choices[0]?.text ?? '').indexOf(word)),
      );
      expect(cut.choices[0]?.finish_reason).toBe('stop');
    });

    it('refuses unknown models, bad and unsupported parameters, and over-long prompts in OpenAI shape', async () => {
      await expect(
        client.chat.completions.create({ model: 'no-such', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({
        status: 404,
        error: {
          type: 'invalid_request_error',
          code: 'model_not_found',
          message: 'No model "no-such" is registered on chain 31337',
        },
      });
      await expect(
        client.chat.completions.create({
          model: 'strong',
          tools: [{ type: 'function', function: { name: 'f' } }],
          messages: [{ role: 'user', content: 'x' }],
        }),
      ).rejects.toMatchObject({
        status: 400,
        error: { param: 'tools', message: "'tools' is not supported by this server" },
      });
      await expect(
        client.chat.completions.create({ model: 'strong', temperature: 7, messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 400, error: { param: 'temperature' } });
      await expect(
        client.completions.create({ model: 'strong', prompt: 'word '.repeat(200), max_tokens: 10 }),
      ).rejects.toMatchObject({
        status: 400,
        error: {
          param: 'prompt',
          message: expect.stringMatching(
            /^The prompt \(\d+ tokens\) plus max_tokens \(10\) exceeds the model's context of 128 tokens$/,
          ),
        },
      });
    });

    it('refuses an adapter that is missing or altered, and keeps serving the others', async () => {
      await expect(client.completions.create({ model: 'missing', prompt: 'x', max_tokens: 2 })).rejects.toMatchObject({
        status: 503,
        error: {
          code: 'adapter_unavailable',
          message: expect.stringMatching(/^Adapter 0x(12){32} is not stored on this node \(blob b\w+\)$/),
        },
      });
      await expect(client.completions.create({ model: 'tampered', prompt: 'x', max_tokens: 2 })).rejects.toMatchObject({
        status: 502,
        error: { code: 'adapter_invalid' },
      });
      expect((await client.completions.create({ model: 'strong', prompt: 'x', max_tokens: 2 })).choices).toHaveLength(
        1,
      );
    });

    it('answers a burst beyond the queue with 429 and Retry-After, never crashing', async () => {
      const burst = await Promise.allSettled(
        [...Array(12)].map(() => client.completions.create({ model: 'strong', prompt: 'dog (noun):', max_tokens: 24 })),
      );
      const refused = burst
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason as { status: number; headers: Headers });
      expect(refused.length).toBeGreaterThan(0);
      for (const e of refused) {
        expect(e.status).toBe(429);
        expect(Number(e.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      expect(burst.some((r) => r.status === 'fulfilled')).toBe(true);
      expect((await client.completions.create({ model: 'strong', prompt: 'x', max_tokens: 2 })).choices).toHaveLength(
        1,
      );
    });

    it('meters every request and exposes metrics', async () => {
      const { rows } = await db.query<{ status: string; n: bigint }>(
        'SELECT status, count(*) AS n FROM usage_records GROUP BY status ORDER BY status',
      );
      expect(rows.find((r) => r.status === 'ok')?.n).toBeGreaterThan(5n);
      const metrics = (await server.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/tributary_requests_total\{model="strong",adapter="0x[0-9a-f]{64}",status="ok"\} \d+/);
      expect(metrics).toMatch(/tributary_adapter_cache_misses_total \d+/);
    });
  });
});
