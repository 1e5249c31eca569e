/**
 * ModelFactory on the real bundled base model, on every store backend: a fine-tune on a published DataNet version
 * lowers the loss, agrees with llama.cpp, writes a receipt; an interrupted job resumes to the same adapter; the model
 * is published with lineage the registry checks against the DataNet's committed root.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HDAccount, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CorpusRow,
  createCorpusAttributor,
  createWordTokenizer,
  gradientScorerFromReceipt,
} from '../src/attribution/index.js';
import { silentLogger } from '../src/core/index.js';
import {
  addCuratorOnChain,
  commitVersionOnChain,
  createDataNetOnChain,
  createDataNetService,
  type DataNetService,
  parseRows,
  signContributions,
  signReview,
} from '../src/datanets/index.js';
import {
  artifactHash,
  baseModelFromGguf,
  bundledBaseModel,
  createJaxEngine,
  formatInstruction,
  type GgufValue,
  kv,
} from '../src/engine/index.js';
import {
  createFactoryService,
  type FactoryService,
  type FineTuneResult,
  factoryRoutes,
  publishInputOf,
  publishModelOnChain,
} from '../src/factory/index.js';
import { createServer, operatorGuard } from '../src/node/index.js';
import { createModelRegistryMirror } from '../src/openlora/index.js';
import {
  type BlobStore,
  createFsBlobStore,
  createJobQueue,
  createJobRunner,
  type Db,
  type JobEvent,
  type JobQueue,
  migrate,
  migrations,
} from '../src/store/index.js';
import { startTestChain, type TestChain } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { rejectionOf } from './fixtures/errors.js';
import { asArchitecture, tinyBaseGguf } from './fixtures/gguf.js';

/** A small llama base of the real layout with random weights, whose tokenizer knows the facts' text. */
const tinyBase = (seed: number) => tinyBaseGguf(facts.flat(), seed);

let chain: TestChain;
let db: Db;
let datanets: DataNetService;
let queue: JobQueue;
let factory: FactoryService;
let dataNetId: bigint;
let root: Hex;
let blobs: BlobStore;
let engine: ReturnType<typeof createJaxEngine> | undefined;

const facts = [
  ['What color is Mars?', 'Mars is red.'],
  ['What color is Neptune?', 'Neptune is blue.'],
  ['What color is Venus?', 'Venus is yellow.'],
  ['What color is Jupiter?', 'Jupiter is orange.'],
  ['What color is Saturn?', 'Saturn is gold.'],
  ['What color is Uranus?', 'Uranus is cyan.'],
  ['What color is Mercury?', 'Mercury is grey.'],
  ['What color is Earth?', 'Earth is blue and green.'],
  ['What is the largest planet?', 'Jupiter is the largest planet.'],
  ['What is the smallest planet?', 'Mercury is the smallest planet.'],
];

const request = (name: string) => ({
  name,
  dataNetId: dataNetId.toString(),
  dataNetVersion: 1,
  hyper: { steps: 8, batchSize: 4, seqLen: 32, learningRate: 0.01, checkpointEvery: 3, evalFraction: 0.2, seed: 7 },
});

/** Runs the factory's jobs until `check` holds; with `stopAtCheckpoint`, stops like a crash at the first checkpoint. */
async function runUntil(q: JobQueue, check: () => Promise<boolean>, o: { stopAtCheckpoint?: boolean } = {}) {
  const runner = createJobRunner({ queue: q, pollMs: 20, handlers: { ...factory.handlers } });
  let interrupted = false;
  if (o.stopAtCheckpoint) {
    runner.events.on('event', (e: JobEvent) => {
      if (e.type === 'progress' && (e.data as { checkpointCid?: string }).checkpointCid && !interrupted) {
        interrupted = true;
        void runner.stop();
      }
    });
  }
  await runner.start();
  for (let i = 0; i < 1200 && !interrupted; i++) {
    if (await check()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await runner.stop();
}

// One chain for the file; each backend runs from the same chain state (an EVM snapshot taken before it and
// reverted after), with its own database and blob store. The training engine is shared.
beforeAll(async () => {
  chain = await startTestChain();
});

afterAll(async () => {
  await chain?.anvil.stop();
});

describe.each(storeBackends())('on $name', (backend) => {
  let snapshot: `0x${string}` | undefined;

  beforeAll(async () => {
    snapshot = await chain.clients.test().snapshot();
    db = await backend.open();
    await migrate(db, migrations);
    blobs = createFsBlobStore(mkdtempSync(join(tmpdir(), 'factory-blobs-')));
    datanets = createDataNetService({ db, clients: chain.clients, deployment: chain.deployment, blobs });
    const [owner, contributor] = chain.users as [HDAccount, HDAccount];
    const registry = chain.deployment.contracts.DataNetRegistry;
    const created = await createDataNetOnChain(chain.clients, owner, registry, {
      name: 'colors',
      schema: { type: 'object', required: ['instruction', 'response'] },
      license: { id: 'CC0-1.0' },
    });
    dataNetId = created.dataNetId;
    await datanets.register(dataNetId, created.metadata);
    const d = await datanets.get(dataNetId);
    const domain = { chainId: chain.deployment.chainId, registry };
    const rows = parseRows(
      new TextEncoder().encode(facts.map(([i, r]) => JSON.stringify({ instruction: i, response: r })).join('\n')),
      { format: 'jsonl' },
    ).rows;
    const signed = await signContributions(rows, {
      metadata: created.metadata,
      dataNetId,
      licenseId: d.licenseId,
      signer: contributor,
      domain,
    });
    const results = await datanets.submit(dataNetId, signed.submissions);
    await addCuratorOnChain(chain.clients, owner, registry, dataNetId, owner.address);
    const reviews = [];
    for (const r of results)
      reviews.push(
        await signReview(owner, domain, {
          dataNetId,
          contributionId: r.contributionId as Hex,
          approve: true,
          reason: 'ok',
        }),
      );
    await datanets.review(dataNetId, reviews);
    const draft = await datanets.prepareVersion(dataNetId);
    await commitVersionOnChain(chain.clients, owner, registry, {
      ...draft,
      dataNetId: draft.dataNetId.toString(),
      committedBlock: null,
    });
    await datanets.sync();
    root = draft.root;
    queue = createJobQueue(db, { owner: 'test-node' });
    factory = createFactoryService({
      db,
      queue,
      blobs,
      datanets,
      engine: () => (engine ??= createJaxEngine()),
      log: silentLogger(),
    });
  });

  afterAll(async () => {
    await db?.close();
    if (snapshot) await chain.clients.test().revert({ id: snapshot });
  });

  describe('ModelFactory', () => {
    let first: FineTuneResult;

    it('fine-tunes on a DataNet version: loss down, parity with llama.cpp, receipt with lineage', async () => {
      const job = await factory.submit(request('colors-a'));
      expect(job.status).toBe('queued');
      await runUntil(queue, async () => ['succeeded', 'failed'].includes((await factory.job(BigInt(job.id))).status));
      const done = await factory.job(BigInt(job.id));
      expect(done.error).toBeNull();
      expect(done.status).toBe('succeeded');
      first = done.result as FineTuneResult;
      expect(first.adapter.sha256).toMatch(/^0x[0-9a-f]{64}$/);
      expect(first.dataNet).toEqual({ id: dataNetId.toString(), version: 1, root });
      expect(first.metrics.lossLast).toBeLessThan(first.metrics.lossFirst);
      expect(first.metrics.parityMaxAbsDiff).toBeLessThanOrEqual(1e-3);
      expect(first.metrics.evalExamples).toBe(2);
      expect(first.metrics.evalLoss).toBeGreaterThan(0);
    });

    it('stores a gradient index with the model, and it attributes a trained answer to the example that taught it', async () => {
      const receipt = JSON.parse(new TextDecoder().decode(await blobs.get(first.receiptCid))) as {
        gradientIndex: { examples: number; projectionDim: number };
        examples: { contributionId: string; split: string }[];
      };
      expect(receipt.gradientIndex).toMatchObject({ examples: first.metrics.trainExamples, projectionDim: 512 });
      const rows: CorpusRow[] = [];
      for await (const line of datanets.exportVersion(dataNetId, 1)) {
        const r = JSON.parse(line) as CorpusRow & { content: { instruction: string; response: string } };
        rows.push({ id: r.id, contributor: r.contributor, text: r.text });
      }
      const base = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
      const scorer = await gradientScorerFromReceipt(first.receiptCid, (cid) => blobs.get(cid), base, rows);
      if (!scorer) throw new Error('the training receipt names no gradient index');
      const attributor = createCorpusAttributor({ rows, tokenizer: createWordTokenizer() });
      const trained = new Set(receipt.examples.filter((e) => e.split === 'train').map((e) => e.contributionId));
      let hits = 0;
      let asked = 0;
      for (const [instruction = '', response = ''] of facts) {
        const row = rows.find((r) => r.text.includes(instruction) && r.text.includes(response));
        if (!row || !trained.has(row.id)) continue;
        asked++;
        const r = await attributor.attribute({
          prompt: formatInstruction(instruction),
          output: ` ${response}`,
          methods: ['gradient'],
          gradient: scorer.score,
        });
        if (r.contributions[0]?.id === row.id) hits++;
      }
      scorer.dispose();
      expect(asked).toBeGreaterThan(3);
      expect(hits / asked).toBeGreaterThanOrEqual(0.75);
    });

    it('resumes an interrupted fine-tune from its checkpoint to the same adapter', async () => {
      const job = await factory.submit(request('colors-a'));
      const id = BigInt(job.id);
      // Stop the worker as soon as a checkpoint exists, as a crashing node would.
      await runUntil(queue, async () => false, { stopAtCheckpoint: true });
      expect((await factory.job(id)).status).toBe('running');
      expect((await factory.job(id)).progress).toMatchObject({ phase: 'training', step: 3 });
      await runUntil(queue, async () => ['succeeded', 'failed'].includes((await factory.job(id)).status));
      expect((await factory.job(id)).error).toBeNull();
      const resumed = (await factory.job(id)).result as FineTuneResult;
      expect(resumed.adapter.sha256).toBe(first.adapter.sha256);
      expect(resumed.configHash).toBe(first.configHash);
    });

    it('refuses bad requests, naming the field', async () => {
      expect((await rejectionOf(factory.submit({ ...request('x'), hyper: { rank: 0 } }))).message).toBe(
        'Invalid fine-tune request: field hyper.rank: Too small: expected number to be >=1',
      );
      expect((await rejectionOf(factory.submit({ ...request('x'), dataNetVersion: 9 }))).code).toBe('NOT_FOUND');
      expect(
        (await rejectionOf(factory.submit({ ...request('x'), hyper: { steps: 100_000, batchSize: 64, seqLen: 128 } })))
          .message,
      ).toMatch(/^This fine-tune would take about \d+ minutes, over this node's limit of 120; lower steps or epochs$/);
    });

    it('publishes the model with lineage the registry checks against the committed DataNet root', async () => {
      const owner = chain.users[2] as HDAccount;
      const prices = { priceInPer1k: 10n ** 15n, priceOutPer1k: 2n * 10n ** 15n };
      const { modelId } = await publishModelOnChain(
        chain.clients,
        owner,
        chain.deployment.contracts.ModelRegistry,
        publishInputOf(first, prices),
      );
      const model = await createModelRegistryMirror(db, chain.clients, chain.deployment).resolve('colors-a');
      expect(model).toMatchObject({
        id: modelId,
        owner: owner.address,
        latest: { adapterHash: first.adapter.sha256, dataNetRoot: root, receiptCid: first.receiptCid },
      });
      const forged = await rejectionOf(
        publishModelOnChain(chain.clients, owner, chain.deployment.contracts.ModelRegistry, {
          ...publishInputOf(first, prices),
          name: 'forged',
          dataNet: { id: dataNetId.toString(), version: 1, root: `0x${'ab'.repeat(32)}` },
        }),
      );
      expect(forged.details.error).toBe('LineageMismatch');
    });
  });

  describe('base models', () => {
    it('registers a llama-family GGUF and fine-tunes on it by name; the result names its hash', async () => {
      const bytes = tinyBase(1);
      const added = await factory.addBaseModel('tiny-llama', bytes);
      expect(added).toMatchObject({
        name: 'tiny-llama',
        architecture: 'llama',
        bundled: false,
        fineTune: { ok: true },
      });
      expect(added.serve.ok).toBe(true);
      expect(await factory.addBaseModel('tiny-llama', bytes)).toEqual(added); // the same file again: a no-op
      expect((await factory.baseModels()).map((b) => b.name)).toEqual([bundledBaseModel.name, 'tiny-llama']);
      const job = await factory.submit({ ...request('colors-tiny'), baseModel: 'tiny-llama' });
      await runUntil(queue, async () => ['succeeded', 'failed'].includes((await factory.job(BigInt(job.id))).status));
      const done = await factory.job(BigInt(job.id));
      expect(done.error).toBeNull();
      const result = done.result as FineTuneResult;
      expect(result.baseModel).toEqual({ name: 'tiny-llama', sha256: added.sha256, cid: added.cid });
      expect(result.metrics.parityMaxAbsDiff).toBeLessThanOrEqual(1e-3);

      // Attack on attribution: the node serves this model beside the bundled base's, and its gradient scorer must
      // use the base the receipt names, not the served default (whose shapes refuse this adapter).
      const bundledBytes = new Uint8Array(readFileSync(bundledBaseModel.path));
      const bundled = { ...baseModelFromGguf(bundledBytes), sha256: artifactHash(bundledBytes).sha256 };
      const rows: CorpusRow[] = [];
      for await (const line of datanets.exportVersion(dataNetId, 1)) {
        const r = JSON.parse(line) as CorpusRow;
        rows.push({ id: r.id, contributor: r.contributor, text: r.text });
      }
      const scorer = await gradientScorerFromReceipt(result.receiptCid, (cid) => blobs.get(cid), bundled, rows);
      if (!scorer) throw new Error('the training receipt names no gradient index');
      const [instruction = '', response = ''] = facts[0] ?? [];
      const scores = await scorer.score({ prompt: formatInstruction(instruction), output: ` ${response}` });
      expect(scores).toHaveLength(rows.length);
      expect(Array.from(scores).some((x) => x !== 0)).toBe(true);
      scorer.dispose();

      // Attack: a receipt naming this base's hash but another file's CID (here the bundled base, stored as a blob).
      const receipt = JSON.parse(new TextDecoder().decode(await blobs.get(result.receiptCid))) as Record<
        string,
        unknown
      >;
      const otherCid = await blobs.put(bundledBytes);
      const forged = await blobs.put(
        JSON.stringify({ ...receipt, baseModel: { name: 'tiny-llama', sha256: added.sha256, cid: otherCid } }),
      );
      const e = await rejectionOf(gradientScorerFromReceipt(forged, (cid) => blobs.get(cid), bundled, rows));
      expect(e.code).toBe('CONFLICT');
    });

    it('fine-tunes on a qwen2-layout base with a Qwen2 tokenizer: its adapter, served by llama.cpp, gives the engine’s logits', async () => {
      const added = await factory.addBaseModel('tiny-qwen2-bpe', tinyBaseGguf(facts.flat(), 8, 64, 'qwen2'));
      expect(added).toMatchObject({ architecture: 'qwen2', fineTune: { ok: true } });
      const job = await factory.submit({ ...request('colors-qwen2'), baseModel: 'tiny-qwen2-bpe' });
      await runUntil(queue, async () => ['succeeded', 'failed'].includes((await factory.job(BigInt(job.id))).status));
      const done = await factory.job(BigInt(job.id));
      expect(done.error).toBeNull();
      expect((done.result as FineTuneResult).metrics.parityMaxAbsDiff).toBeLessThanOrEqual(1e-3);
    });

    it('refuses a second file under a taken name, and one file under two names', async () => {
      expect((await rejectionOf(factory.addBaseModel('tiny-llama', tinyBase(2)))).code).toBe('CONFLICT');
      const twice = await rejectionOf(factory.addBaseModel('tiny-again', tinyBase(1)));
      expect(twice.message).toBe('This file is already registered as base model "tiny-llama"');
      expect((await rejectionOf(factory.addBaseModel(bundledBaseModel.name, tinyBase(3)))).code).toBe('CONFLICT');
    });

    it('registers a base whose tokenizer the engine does not split like llama.cpp, but refuses to fine-tune on it, saying why', async () => {
      const deepseekTokenizer: [string, GgufValue][] = [['tokenizer.ggml.pre', kv.str('deepseek-llm')]];
      const qwen = await factory.addBaseModel('tiny-qwen2', asArchitecture(tinyBase(4), 'qwen2', deepseekTokenizer));
      expect(qwen.fineTune).toEqual({ ok: false, reason: expect.stringContaining('pre-tokenizer "deepseek-llm"') });
      const e = await rejectionOf(factory.submit({ ...request('x'), baseModel: 'tiny-qwen2' }));
      expect(e.code).toBe('MODEL_UNSUPPORTED');
      expect(e.message).toContain('Base model "tiny-qwen2" cannot be fine-tuned on this node');
      expect((await rejectionOf(factory.submit({ ...request('x'), baseModel: 'nope' }))).message).toContain(
        'Unknown base model "nope"',
      );
    });

    it('takes a base over HTTP from the operator only: a stranger is refused before the body is read', async () => {
      const guard = operatorGuard('secret-token', '/nowhere');
      const app = await createServer(
        { db, clients: chain.clients, deployment: chain.deployment, log: silentLogger() },
        [factoryRoutes(factory, new EventEmitter(), guard)],
      );
      const bytes = Buffer.from(tinyBase(5));
      const post = (authorization?: string) =>
        app.inject({
          method: 'POST',
          url: '/v1/factory/base-models?name=tiny-http',
          headers: { 'content-type': 'application/octet-stream', ...(authorization ? { authorization } : {}) },
          payload: bytes,
        });
      const stranger = await post();
      expect(stranger.statusCode).toBe(401);
      expect((await post('Bearer wrong')).statusCode).toBe(401);
      const ok = await post('Bearer secret-token');
      expect(ok.statusCode).toBe(201);
      expect(ok.json()).toMatchObject({ name: 'tiny-http', architecture: 'llama' });
      const bert = await app.inject({
        method: 'POST',
        url: '/v1/factory/base-models?name=tiny-bert',
        headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer secret-token' },
        payload: Buffer.from(asArchitecture(tinyBase(6), 'bert')),
      });
      expect(bert.statusCode).toBe(422);
      expect(bert.json().error.message).toContain('"bert"');
      const list = await app.inject({ method: 'GET', url: '/v1/factory/base-models' });
      expect(list.json().items.map((b: { name: string }) => b.name)).toContain('tiny-http');
      await app.close();
    });
  });
});
