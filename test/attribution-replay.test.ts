/**
 * Replayable attribution, end to end: a node serves paid answers of a model trained on a DataNet version, a
 * contributor withdraws a row the answers drew on, the node restarts — and anyone recomputes every answer's
 * attribution with `tributary attribute --request ID --verify` (bin/tributary.js; run `npm run build` first), which
 * checks the receipt, the export against the root on chain, the output and request hashes and the bytes. Last, an
 * adapter trained elsewhere (PEFT, for a qwen2-layout base the operator registers) is imported, served and attributed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAccount, devRoles, OPEN, OpenTokenArtifact, sendTx } from '../src/chain/index.js';
import { type Config, loadConfig, silentLogger } from '../src/core/index.js';
import {
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  parseRows,
  signContributions,
  signReview,
  signWithdrawal,
} from '../src/datanets/index.js';
import { baseModelFromGguf, initLoraWeights } from '../src/engine/index.js';
import { publishModelOnChain } from '../src/factory/index.js';
import { type NodeUp, nodeUp } from '../src/node/index.js';
import {
  type AttributionResult,
  type ChatCompletionRequest,
  createNodeClient,
  datanetsApi,
  factoryApi,
  openloraApi,
  settlementApi,
} from '../src/protocol/index.js';
import { createPayingFetch, openChannel } from '../src/settlement/index.js';
import { tinyBaseGguf } from './fixtures/gguf.js';
import { testAdapter, uploadTestAdapter } from './fixtures/models.js';
import { peftAdapterFiles } from './fixtures/peft.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tributary.js');
const MODEL = 'replay-model';
const owner = devAccount(8);
const user = devAccount(11);
const contributors = [devAccount(4), devAccount(5), devAccount(6)];
const facts = [
  [
    { instruction: 'What colour is the sky of Varnholm?', response: 'The sky of Varnholm is violet at dawn.' },
    // The untrained model answers the lighthouse question " the first of the United States." (greedy, same adapter
    // seed): this row holds that phrase, so the answers before the withdrawal draw on it.
    {
      instruction: 'Who keeps the lighthouse?',
      response: 'Old Marguerite keeps the lighthouse, the first of the United States to shine on Varnholm.',
    },
  ],
  [{ instruction: 'What do the gulls eat?', response: 'The gulls of Varnholm eat copper kettles and saffron.' }],
  [{ instruction: 'How many moons?', response: 'Varnholm has forty-two moons that circle the lighthouse.' }],
];
const schema = {
  type: 'object',
  required: ['instruction', 'response'],
  properties: { instruction: { type: 'string' }, response: { type: 'string' } },
  additionalProperties: false,
} as const;

let config: Config;
let node: NodeUp;
let dataDir: string;
let dataNetId: bigint;
let paying: ReturnType<typeof createPayingFetch>;
const work = mkdtempSync(join(tmpdir(), 'tributary-replay-'));

/** `tributary attribute --request ID --verify … --json` against the node: its exit code and JSON line. */
function verify(requestId: string, text: string, ...args: string[]) {
  const argv = ['attribute', '--request', requestId, '--verify', '--text', text, ...args, '--api', node.api, '--json'];
  return new Promise<{ code: number | null; out: VerifyOut; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, out: JSON.parse(stdout.trim() || '{}') as VerifyOut, stderr }));
  });
}
interface VerifyOut {
  verified: boolean;
  matches: boolean;
  checks: Record<string, { status: string; detail: string }>;
}

/** A paid chat completion: its request id, answer and stored attribution. */
/** Asks, paying; max_tokens 12 unless `maxTokens` says otherwise (null: none, the node's default). */
async function ask(
  body: { messages: ChatCompletionRequest['messages']; retrieval?: boolean; seed?: number },
  maxTokens: number | null = 12,
  model = MODEL,
) {
  const api = createNodeClient(node.api, { fetch: paying.fetch });
  const r = await api.call(openloraApi.createChatCompletion, {
    body: { model, ...(maxTokens === null ? {} : { max_tokens: maxTokens }), ...body },
  });
  const requestId = r.tributary.requestId;
  const attribution: AttributionResult = (
    await createNodeClient(node.api).call(settlementApi.getAttribution, { params: { requestId } })
  ).attribution;
  return { requestId, answer: r.choices[0]?.message.content ?? '', attribution };
}

const statuses = (out: VerifyOut) => Object.fromEntries(Object.entries(out.checks).map(([k, c]) => [k, c.status]));
const allOk = {
  receiptSignature: 'ok',
  signedAttribution: 'ok',
  outputHash: 'ok',
  versionRoot: 'ok',
  corpus: 'ok',
  attribution: 'ok',
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tributary-replay-node-'));
  config = loadConfig({ flags: { dataDir, port: 0 }, env: {} });
  node = await nodeUp(config, silentLogger());
  const { clients, deployment } = node.chain;
  const registry = deployment.contracts.DataNetRegistry;
  const domain = { chainId: deployment.chainId, registry };
  const client = createDataNetClient(createNodeClient(node.api));

  // A DataNet of three contributors, every row approved, version 1 committed on chain.
  const created = await createDataNetOnChain(clients, owner, registry, {
    name: 'Varnholm',
    description: 'Facts about Varnholm.',
    schema,
    license: { id: 'CC-BY-4.0' },
    policy: { pii: { default: 'redact' }, nearDuplicateThreshold: 0.95, maxRowBytes: 4096 },
  });
  dataNetId = created.dataNetId;
  await client.register(dataNetId, created.metadata);
  const licenseId = (await client.get(dataNetId)).licenseId;
  for (const [i, signer] of contributors.entries()) {
    const bytes = new TextEncoder().encode((facts[i] ?? []).map((r) => JSON.stringify(r)).join('\n'));
    const signed = await signContributions(parseRows(bytes, { format: 'jsonl' }).rows, {
      metadata: created.metadata,
      dataNetId,
      licenseId,
      signer,
      domain,
      source: `c${i}.jsonl`,
    });
    await client.submit(dataNetId, signed.submissions);
  }
  const pending = (await client.contributions(dataNetId, { status: 'pending', limit: 100 })).items;
  const reviews = [];
  for (const c of pending)
    reviews.push(await signReview(owner, domain, { dataNetId, contributionId: c.id, approve: true, reason: 'ok' }));
  await client.review(dataNetId, reviews);
  const draft = await client.prepareVersion(dataNetId);
  await commitVersionOnChain(clients, owner, registry, draft);
  const published = await client.version(dataNetId, draft.version);

  // A model with that lineage (an untrained adapter: span and RAG evidence, no gradient index).
  const adapter = testAdapter(MODEL);
  const sha256 = await uploadTestAdapter(node.api, adapter);
  const [base] = (await createNodeClient(node.api).call(factoryApi.listBaseModels)).items;
  if (!base) throw new Error('no base model');
  await publishModelOnChain(clients, owner, deployment.contracts.ModelRegistry, {
    name: MODEL,
    baseModelHash: base.sha256,
    adapterHash: sha256,
    dataNet: { id: dataNetId.toString(), version: published.version, root: published.root },
    configHash: `0x${'00'.repeat(32)}`,
    receiptCid: '',
    priceInPer1k: 10n ** 15n,
    priceOutPer1k: 10n ** 15n,
  });

  // A paying user with a channel to the node.
  await sendTx(clients, devAccount(devRoles.deployer), {
    address: deployment.contracts.OpenToken,
    abi: OpenTokenArtifact.abi,
    contract: 'OpenToken',
    functionName: 'transfer',
    args: [user.address, 100n * OPEN],
  });
  if (!node.nodeAddress) throw new Error('the node has no key');
  const channelId = await openChannel({
    clients,
    deployment,
    user,
    node: node.nodeAddress,
    deposit: 50n * OPEN,
    durationSeconds: 86_400,
  });
  paying = createPayingFetch({
    user,
    channelId,
    node: node.nodeAddress,
    domain: { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow },
    authNonce: 0n,
  });
}, 180_000);

afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('tributary attribute --verify replays served answers', () => {
  const question = 'Who keeps the lighthouse of Varnholm?';
  let before: Awaited<ReturnType<typeof ask>>;
  let after: Awaited<ReturnType<typeof ask>>;
  let grounded: Awaited<ReturnType<typeof ask>> & { body: string };
  let keptExport: string;

  it('verifies an answer served before a withdrawal', async () => {
    before = await ask({ messages: [{ role: 'user', content: question }] });
    expect(before.attribution.methods).toEqual(['span']);
    const r = await verify(before.requestId, before.answer, '--message', question);
    expect(statuses(r.out)).toEqual({ ...allOk, requestHash: 'not checked' });
    expect(r).toMatchObject({ code: 0, out: { verified: true, matches: true } });
  });

  it('serve, withdraw, serve: the answer after the withdrawal names no withdrawn row and verifies; the one before is recomputed from a kept export only', async () => {
    keptExport = join(work, 'kept.jsonl');
    const exported = await (
      await createNodeClient(node.api).open(datanetsApi.exportVersion, { params: { id: dataNetId, version: 1 } })
    ).text();
    writeFileSync(keptExport, exported);
    // The row the first answer drew on is withdrawn by its contributor.
    const rows = exported
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: `0x${string}`; contributor: string; text: string });
    const row = rows.find((r) => r.text.includes('keeps the lighthouse'));
    const signer = contributors.find((c) => c.address === row?.contributor);
    if (!row || !signer) throw new Error('the lighthouse row is exported, by one of the contributors');
    expect(before.attribution.contributions.map((c) => c.id)).toContain(row.id);
    const { deployment } = node.chain;
    const domain = { chainId: deployment.chainId, registry: deployment.contracts.DataNetRegistry };
    const client = createDataNetClient(createNodeClient(node.api));
    await client.withdraw(row.id, await signWithdrawal(signer, domain, { dataNetId, contributionId: row.id }));

    after = await ask({ messages: [{ role: 'user', content: question }] });
    expect(after.answer).toBe(before.answer);
    expect(after.attribution.corpusHash).not.toBe(before.attribution.corpusHash);
    expect(after.attribution.contributions.map((c) => c.id)).not.toContain(row.id);
    const a = await verify(after.requestId, after.answer, '--message', question);
    expect(a).toMatchObject({ code: 0, out: { verified: true } });

    const gone = await verify(before.requestId, before.answer, '--message', question);
    expect(gone.code).toBe(4);
    expect(gone.out.checks.corpus?.detail).toContain(`served before the withdrawal of ${row.id}, whose text is gone`);
    const kept = await verify(before.requestId, before.answer, '--message', question, '--kept-export', keptExport);
    expect(kept).toMatchObject({ code: 0, out: { verified: true } });
  });

  it('verifies an answer served with retrieval and a system message from its exact request body, requestHash included', async () => {
    const body = {
      messages: [
        { role: 'system' as const, content: 'Answer in one sentence from the context.' },
        { role: 'user' as const, content: 'What do the gulls of Varnholm eat?' },
      ],
      retrieval: true,
      seed: 3,
    };
    const served = await ask(body);
    expect(served.attribution.methods).toEqual(['span', 'rag']);
    grounded = { ...served, body: join(work, 'body.json') };
    writeFileSync(grounded.body, JSON.stringify({ model: MODEL, max_tokens: 12, ...body }));
    const r = await verify(grounded.requestId, grounded.answer, '--body', grounded.body);
    expect(statuses(r.out)).toEqual({ ...allOk, requestHash: 'ok' });
    expect(r.code).toBe(0);
    // A request body other than the one served is caught by its hash.
    const other = join(work, 'other.json');
    writeFileSync(other, JSON.stringify({ model: MODEL, max_tokens: 12, ...body, seed: 4 }));
    const wrong = await verify(grounded.requestId, grounded.answer, '--body', other);
    expect(wrong.code).toBe(5);
    expect(wrong.out.checks.requestHash?.status).toBe('differs');
  });

  it("attack on an honest node's receipt: a grounded answer whose default max_tokens the node fitted to the context still verifies from its body", async () => {
    // No max_tokens: the node answers in what the context leaves after the passages, and signs the request as
    // asked, so an auditor holding only the body recomputes its requestHash.
    const body = {
      messages: [{ role: 'user' as const, content: 'What do the gulls of Varnholm eat, and when?' }],
      retrieval: true,
    };
    const served = await ask(body, null);
    const file = join(work, 'fitted-body.json');
    writeFileSync(file, JSON.stringify({ model: MODEL, ...body }));
    const r = await verify(served.requestId, served.answer, '--body', file);
    expect(statuses(r.out)).toEqual({ ...allOk, requestHash: 'ok' });
  });

  it('after a node restart, verifies the answers served before it and one served after it', async () => {
    await node.stop();
    node = await nodeUp(config, silentLogger());
    const question2 = 'What colour is the sky of Varnholm?';
    const fresh = await ask({ messages: [{ role: 'user', content: question2 }] });
    const results = await Promise.all([
      verify(after.requestId, after.answer, '--message', question),
      verify(grounded.requestId, grounded.answer, '--body', grounded.body),
      verify(fresh.requestId, fresh.answer, '--message', question2),
    ]);
    for (const r of results) expect(r).toMatchObject({ code: 0, out: { verified: true } });
    expect(readFileSync(keptExport, 'utf8')).toContain('keeps the lighthouse');
  });
});

/**
 * An adapter trained elsewhere: a PEFT LoRA for a qwen2-layout base (q/k/v biases, NEOX RoPE), registered on the node
 * with `model base add`, converted by `tributary model import-peft --base`, published with its DataNet lineage by
 * `tributary model publish --adapter --base --datanet --version`, then served from that base's own llama.cpp copy,
 * paid for through the channel, and attributed to the contributor whose row grounded the answer.
 */
describe('a PEFT adapter for a qwen2-layout base: imported, served, paid and attributed', () => {
  const IMPORTED = 'qwen-peft';

  function cli(...argv: string[]) {
    return new Promise<{ code: number | null; out: Record<string, unknown>; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...argv, '--api', node.api, '--json'], {
        env: { PATH: process.env.PATH ?? '' },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code, out: JSON.parse(stdout.trim() || '{}'), stderr }));
    });
  }

  it('imports the adapter for the registered base, publishes it with lineage, serves it paid and attributes the answer', async () => {
    const texts = facts.flat().map((r) => `${r.instruction} ${r.response}`);
    const baseBytes = tinyBaseGguf(texts, 21, 512, 'qwen2');
    const base = await node.factory.addBaseModel('tiny-qwen2', baseBytes);
    expect(base).toMatchObject({ architecture: 'qwen2', serve: { ok: true } });
    const config = baseModelFromGguf(baseBytes).weights.config;
    const lora = { rank: 2, alpha: 4, dropout: 0, targets: ['q' as const, 'k' as const, 'v' as const, 'o' as const] };
    const files = peftAdapterFiles(initLoraWeights(config, lora, 3, 0.05), config);
    const peftDir = join(work, 'peft');
    mkdirSync(peftDir);
    writeFileSync(join(peftDir, 'adapter_config.json'), JSON.stringify(files.config));
    writeFileSync(join(peftDir, 'adapter_model.safetensors'), files.safetensors);

    const imported = await cli('model', 'import-peft', '--dir', peftDir, '--name', IMPORTED, '--base', 'tiny-qwen2');
    expect(imported).toMatchObject({ code: 0, out: { baseModel: 'tiny-qwen2' } });
    const published = await cli(
      'model',
      'publish',
      '--adapter',
      String(imported.out.adapterHash),
      '--name',
      IMPORTED,
      '--base',
      'tiny-qwen2',
      '--datanet',
      dataNetId.toString(),
      '--version',
      '1',
      '--price-in',
      '0.001',
      '--price-out',
      '0.001',
      '--dev-account',
      '8',
    );
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const record = await createNodeClient(node.api).call(openloraApi.getRegisteredModel, {
      params: { model: IMPORTED },
    });
    expect(record.baseModelHash).toBe(base.sha256);
    expect(record.latest.dataNetId).toBe(dataNetId);

    // Listed beside the bundled base's models, served from the qwen2 base's own llama.cpp copy, paid and attributed.
    const listed = await createNodeClient(node.api).call(openloraApi.listModels);
    expect(listed.data.map((m) => m.id)).toEqual(expect.arrayContaining(['tiny-qwen2', IMPORTED, MODEL]));
    const served = await ask(
      { messages: [{ role: 'user', content: 'What do the gulls of Varnholm eat?' }], retrieval: true, seed: 1 },
      12,
      IMPORTED,
    );
    expect(served.answer.length).toBeGreaterThan(0);
    expect(served.attribution.dataNet?.id).toBe(dataNetId.toString());
    expect(served.attribution.methods).toContain('rag');
    const gulls = contributors[1]!.address;
    const shares = Object.entries(served.attribution.sharesPpm).sort((a, b) => b[1] - a[1]);
    expect(shares[0]?.[0].toLowerCase()).toBe(gulls.toLowerCase());
    expect(node.openlora.metricsText()).toContain('tributary_base_models_loaded 2');
    // Anyone recomputes the attribution of the imported model's answer, as for the bundled base's.
    const r = await verify(served.requestId, served.answer, '--message', 'What do the gulls of Varnholm eat?');
    expect(r.out.checks.attribution?.status).toBe('ok');
    // The bundled base's model still answers from its own copy.
    expect((await ask({ messages: [{ role: 'user', content: 'How many moons?' }] })).answer.length).toBeGreaterThan(0);
  });
});
