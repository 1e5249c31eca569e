/**
 * DataNets end to end over HTTP, on a real chain, on every store backend: registration, the ingest outcomes,
 * signatures that must not replay across DataNets or chains, curation, publication, proofs, export, withdrawal
 * and bonds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HDAccount, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataNetRegistryArtifact, OPEN, sendTx } from '../src/chain/index.js';
import { canonicalJson, keccak256, silentLogger } from '../src/core/index.js';
import {
  addCuratorOnChain,
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  createDataNetService,
  type DataNetClient,
  type DataNetMetadata,
  type DataNetService,
  dataNetRoutes,
  depositBondOnChain,
  newNonce,
  parseRows,
  signContributions,
  signDataNetMessage,
  signReview,
  signWithdrawal,
} from '../src/datanets/index.js';
import { createServer } from '../src/node/index.js';
import { createNodeClient } from '../src/protocol/index.js';
import { createFsBlobStore, type Db, migrate, migrations } from '../src/store/index.js';
import { startTestChain, type TestChain } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { rejectionOf } from './fixtures/errors.js';

const metadataInput = {
  name: 'Planet facts',
  description: 'Questions and answers about the solar system',
  schema: {
    type: 'object',
    required: ['question', 'answer'],
    properties: { question: { type: 'string', minLength: 5 }, answer: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  license: { id: 'CC-BY-4.0' },
  policy: {
    pii: { default: 'redact', kinds: { credit_card: 'reject' } },
    nearDuplicateThreshold: 0.8,
    maxRowBytes: 2000,
  },
};

const jsonl = (rows: object[]) => new TextEncoder().encode(rows.map((r) => JSON.stringify(r)).join('\n'));

describe.each(storeBackends())('DataNets on $name', (backend) => {
  let chain: TestChain;
  let db: Db;
  let service: DataNetService;
  let server: FastifyInstance;
  let client: DataNetClient;
  let owner: HDAccount;
  let curator: HDAccount;
  let alice: HDAccount;
  let bob: HDAccount;
  let dataNetId: bigint;
  let metadata: DataNetMetadata;
  const domain = () => ({ chainId: chain.deployment.chainId, registry: chain.deployment.contracts.DataNetRegistry });

  const contribute = async (who: HDAccount, rows: object[], id = dataNetId) => {
    const parsed = parseRows(jsonl(rows), { format: 'jsonl' });
    const signed = await signContributions(parsed.rows, {
      metadata,
      dataNetId: id,
      licenseId: (await client.get(id)).licenseId,
      signer: who,
      domain: domain(),
    });
    return { results: await client.submit(id, signed.submissions), signed };
  };

  beforeAll(async () => {
    chain = await startTestChain();
    [owner, curator, alice, bob] = chain.users as [HDAccount, HDAccount, HDAccount, HDAccount];
    db = await backend.open();
    await migrate(db, migrations);
    service = createDataNetService({
      db,
      clients: chain.clients,
      deployment: chain.deployment,
      blobs: createFsBlobStore(mkdtempSync(join(tmpdir(), 'blobs-'))),
      log: silentLogger(),
    });
    server = await createServer({ db, clients: chain.clients, deployment: chain.deployment, log: silentLogger() }, [
      dataNetRoutes(service),
    ]);
    await server.listen({ host: '127.0.0.1', port: 0 });
    const address = server.server.address() as { port: number };
    client = createDataNetClient(createNodeClient(`http://127.0.0.1:${address.port}`));
  });

  afterAll(async () => {
    await server?.close();
    await db?.close();
    await chain?.anvil.stop();
  });

  it('creates a DataNet on chain and registers metadata that matches it', async () => {
    const created = await createDataNetOnChain(
      chain.clients,
      owner,
      chain.deployment.contracts.DataNetRegistry,
      metadataInput,
    );
    dataNetId = created.dataNetId;
    metadata = created.metadata;
    const wrong = await rejectionOf(client.register(dataNetId, { ...metadata, name: 'Something else' }));
    expect(wrong.code).toBe('CONFLICT');
    expect(wrong.message).toMatch(
      /^Metadata does not match DataNet \d+ on chain: its metadata CID is b\w+, the chain has b\w+$/,
    );
    const d = await client.register(dataNetId, metadata);
    expect(d).toMatchObject({
      id: dataNetId,
      owner: owner.address,
      metadata: { name: 'Planet facts' },
      latestVersion: 0,
    });
    expect((await rejectionOf(client.register(999n, metadata))).code).toBe('NOT_FOUND');
  });

  /** Signs `content` as is, skipping the pipeline, the way a careless or hostile client would. */
  const signRaw = async (who: HDAccount, content: Record<string, unknown>, overrides: { nonce?: bigint } = {}) => {
    const contentHash = keccak256(canonicalJson(content));
    const nonce = overrides.nonce ?? newNonce();
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const licenseId = (await client.get(dataNetId)).licenseId;
    const signature = await signDataNetMessage(who, domain(), 'Contribution', {
      dataNetId,
      contentHash,
      licenseId,
      nonce,
      deadline,
    });
    return {
      contributor: who.address,
      content,
      contentHash,
      nonce: nonce.toString(),
      deadline: deadline.toString(),
      signature,
    };
  };

  it('accepts, deduplicates, redacts and rejects rows, naming what was wrong', async () => {
    const { results, signed } = await contribute(alice, [
      { question: 'What is the largest planet?', answer: 'Jupiter is the largest planet in the solar system.' },
      {
        question: 'Which planet has rings?',
        answer: 'Saturn has the most visible rings. Contact ring.fan@example.org',
      },
      { question: 'Short', answer: 42 },
      { question: 'Card?', answer: 'pay with 4111 1111 1111 1111' },
      { question: 'What is the largest planet?', answer: 'Jupiter is the largest planet in the solar system!' },
    ]);
    // The contributor's side refuses what the DataNet's policy refuses, before anything is sent.
    expect(signed.errors).toEqual([
      { line: 3, reason: 'schema', message: 'line 3: field /answer must be string', field: '/answer' },
      {
        line: 4,
        reason: 'pii',
        message: 'line 4: field /answer contains a payment card number, which this DataNet rejects',
        field: '/answer',
      },
    ]);
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'near_duplicate']);
    expect(results[1]?.redacted).toEqual({ email: 1 });
    expect(results[2]?.matched).toBe(results[0]?.contributionId);
    expect(results[2]?.message).toMatch(/^\d+% similar to contribution 0x[0-9a-f]{64} \(threshold 80%\)$/);
    const stored = await client.content(results[1]?.contributionId as Hex);
    expect(stored.answer).toBe('Saturn has the most visible rings. Contact [EMAIL]');

    // The same content from someone else is a duplicate; the same signed row again is recognized, not stored twice.
    const again = await contribute(bob, [
      { question: 'What is the largest planet?', answer: 'Jupiter is the largest planet in the solar system.' },
    ]);
    expect(again.results[0]).toMatchObject({ status: 'duplicate', matched: results[0]?.contributionId });
    const first = await contribute(alice, [
      { question: 'How many moons has Mars?', answer: 'Mars has two moons, Phobos and Deimos.' },
    ]);
    const retry = await client.submit(dataNetId, first.signed.submissions);
    expect(retry[0]).toMatchObject({ status: 'already_submitted', contributionId: first.results[0]?.contributionId });
    expect((await client.get(dataNetId)).counts.pending).toBe(3);
  });

  it('re-checks every row on the node: schema, PII policy, pipeline output, nonces and foreign signatures', async () => {
    const bad = await client.submit(dataNetId, [
      await signRaw(bob, { question: 'Short', answer: 42 }),
      await signRaw(bob, { question: 'Pay how?', answer: 'with 4111 1111 1111 1111' }),
      // Unredacted PII: the node's pipeline redacts it, so the signed hash is not of what would be stored.
      await signRaw(bob, { question: 'Who to ask?', answer: 'Ask astro@example.org' }),
    ]);
    expect(bad.map((r) => [r.status, r.reason, r.message])).toEqual([
      ['rejected', 'schema', 'field /answer must be string'],
      ['rejected', 'pii', 'field /answer contains a payment card number, which this DataNet rejects'],
      [
        'rejected',
        'not_normalized',
        expect.stringMatching(
          /^content differs from what the DataNet pipeline produces \(hash 0x[0-9a-f]{64}\); sign the prepared content, not the raw row$/,
        ),
      ],
    ]);

    const used = await signRaw(bob, {
      question: 'What is the hottest planet?',
      answer: 'Venus is the hottest planet.',
    });
    expect((await client.submit(dataNetId, [used]))[0]?.status).toBe('accepted');
    const replay = await signRaw(
      bob,
      { question: 'Which planet looks red?', answer: 'Mars looks red.' },
      { nonce: BigInt(used.nonce) },
    );
    expect((await client.submit(dataNetId, [replay]))[0]).toMatchObject({
      status: 'rejected',
      reason: 'replayed',
      message: `nonce ${used.nonce} of ${bob.address} was already used; every signature needs a fresh nonce`,
    });

    // Signatures made for another DataNet, another registry or another chain do not verify here.
    const rows = parseRows(
      jsonl([{ question: 'Which planet is closest to the Sun?', answer: 'Mercury is closest to the Sun.' }]),
      { format: 'jsonl' },
    ).rows;
    const licenseId = (await client.get(dataNetId)).licenseId;
    for (const [what, opts] of [
      ['DataNet', { dataNetId: dataNetId + 1n, domain: domain() }],
      ['chain', { dataNetId, domain: { ...domain(), chainId: 10 } }],
      ['registry', { dataNetId, domain: { ...domain(), registry: chain.deployment.contracts.Staking } }],
    ] as const) {
      const foreign = await signContributions(rows, { metadata, licenseId, signer: bob, ...opts });
      const r = await client.submit(dataNetId, foreign.submissions);
      expect(r[0], what).toMatchObject({ status: 'rejected', reason: 'signature' });
      expect(r[0]?.message).toMatch(
        new RegExp(
          `^Contribution signature is not ${bob.address}'s for this message, DataNet, registry and chain \\(it recovers to 0x[0-9a-fA-F]{40}\\)$`,
        ),
      );
    }
    const expired = await signContributions(rows, {
      metadata,
      licenseId,
      signer: bob,
      dataNetId,
      domain: domain(),
      deadline: 1000n,
    });
    expect((await client.submit(dataNetId, expired.submissions))[0]?.message).toMatch(
      /^Contribution signature expired at 1000 \(now \d+\)$/,
    );
  });

  it('lets only the owner and curators review, and keeps an audit log', async () => {
    const queue = await client.contributions(dataNetId, { status: 'pending' });
    const [first, second, third] = queue.items;
    if (!first || !second || !third) throw new Error('queue too short');
    const byStranger = await client.review(dataNetId, [
      await signReview(bob, domain(), { dataNetId, contributionId: first.id, approve: true, reason: 'looks right' }),
    ]);
    expect(byStranger[0]).toMatchObject({
      status: 'refused',
      message: `${bob.address} is neither the owner nor a curator of DataNet ${dataNetId}`,
    });
    await addCuratorOnChain(
      chain.clients,
      owner,
      chain.deployment.contracts.DataNetRegistry,
      dataNetId,
      curator.address,
    );
    const decided = await client.review(dataNetId, [
      await signReview(curator, domain(), { dataNetId, contributionId: first.id, approve: true, reason: 'accurate' }),
      await signReview(owner, domain(), { dataNetId, contributionId: second.id, approve: true, reason: 'accurate' }),
      await signReview(curator, domain(), {
        dataNetId,
        contributionId: third.id,
        approve: false,
        spam: false,
        reason: 'off topic',
      }),
    ]);
    expect(decided.map((d) => d.status)).toEqual(['approved', 'approved', 'rejected']);
    const log = (await client.auditLog(dataNetId)) as { decision: string; curator: string; reason: string }[];
    expect(log.map((l) => [l.decision, l.curator, l.reason])).toEqual([
      ['approve', curator.address, 'accurate'],
      ['approve', owner.address, 'accurate'],
      ['reject', curator.address, 'off topic'],
    ]);
  });

  it('publishes a version on chain and proves every member offline and through the contract', async () => {
    const draft = await client.prepareVersion(dataNetId);
    expect(draft).toMatchObject({ version: 1, status: 'draft', count: 2 });
    const early = await rejectionOf(client.exportVersion(dataNetId, 1));
    expect(early.message).toBe(
      `Version 1 of DataNet ${dataNetId} is a draft: commit it on chain before training on it`,
    );
    const e = await rejectionOf(
      commitVersionOnChain(chain.clients, curator, chain.deployment.contracts.DataNetRegistry, {
        ...draft,
        version: 2,
      }),
    );
    expect(e.message).toBe(`DataNetRegistry.commitVersion reverted with VersionOutOfOrder("${dataNetId}", "1", "2")`);
    await commitVersionOnChain(chain.clients, curator, chain.deployment.contracts.DataNetRegistry, draft);
    const published = await client.version(dataNetId, 1);
    expect(published).toMatchObject({ status: 'published', root: draft.root });
    const manifest = await client.manifest(dataNetId, 1);
    expect(manifest.contributions.map((c) => c.id)).toEqual([...manifest.contributions.map((c) => c.id)].sort());
    for (const c of manifest.contributions) {
      const proof = await client.proof(c.id);
      expect(proof).toMatchObject({ version: 1, root: draft.root, verifiedOffline: true, verifiedOnChain: true });
    }
    const exported = (await client.exportVersion(dataNetId, 1))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; text: string });
    expect(exported.map((r) => r.id)).toEqual(manifest.contributions.map((c) => c.id));
    expect(exported[0]?.text).toMatch(/\?/);
    expect((await rejectionOf(client.prepareVersion(dataNetId))).message).toBe(
      `Nothing changed since version 1 of DataNet ${dataNetId}: its approved contributions are the same`,
    );
  });

  it('withdraws a contribution: content gone, absent from the next version, listed in its manifest', async () => {
    const manifest = await client.manifest(dataNetId, 1);
    const gone = manifest.contributions.find((c) => c.contributor === alice.address);
    if (!gone) throw new Error('no contribution of alice');
    const byOther = await rejectionOf(
      client.withdraw(gone.id, await signWithdrawal(bob, domain(), { dataNetId, contributionId: gone.id })),
    );
    expect(byOther.code).toBe('UNAUTHORIZED');
    const w = await client.withdraw(
      gone.id,
      await signWithdrawal(alice, domain(), { dataNetId, contributionId: gone.id }),
    );
    expect(w).toMatchObject({ contributionId: gone.id, absentFromVersion: 2, lastVersionContaining: 1 });
    expect((await rejectionOf(client.content(gone.id))).message).toBe(
      `Contribution ${gone.id} was withdrawn and its content deleted`,
    );
    expect(await client.contribution(gone.id)).toMatchObject({
      status: 'withdrawn',
      versions: [1],
      absentFromVersion: 2,
    });

    const { results } = await contribute(bob, [
      { question: 'Which planet spins on its side?', answer: 'Uranus rotates on its side.' },
    ]);
    await client.review(dataNetId, [
      await signReview(curator, domain(), {
        dataNetId,
        contributionId: results[0]?.contributionId as Hex,
        approve: true,
        reason: 'ok',
      }),
    ]);
    const v2 = await client.prepareVersion(dataNetId);
    await commitVersionOnChain(chain.clients, curator, chain.deployment.contracts.DataNetRegistry, v2);
    const m2 = await client.manifest(dataNetId, 2);
    expect(m2.withdrawnSincePrevious).toEqual([gone.id]);
    expect(m2.contributions.map((c) => c.id)).not.toContain(gone.id);
    expect(m2.previous).toEqual({ version: 1, root: manifest.root });
    expect((await client.version(dataNetId, 2)).status).toBe('published');
  });

  it('requires the bond a DataNet asks for', async () => {
    const bonded = await createDataNetOnChain(
      chain.clients,
      owner,
      chain.deployment.contracts.DataNetRegistry,
      { ...metadataInput, name: 'Bonded facts' },
      {
        bondAmount: 10n * OPEN,
        forfeitBps: 5000,
      },
    );
    await client.register(bonded.dataNetId, bonded.metadata);
    const row = [{ question: 'What is the smallest planet?', answer: 'Mercury is the smallest planet.' }];
    const before = await contribute(alice, row, bonded.dataNetId);
    expect(before.results[0]).toMatchObject({ status: 'rejected', reason: 'bond' });
    await sendTx(chain.clients, chain.deployer, {
      ...chain.token,
      functionName: 'transfer',
      args: [alice.address, 10n * OPEN],
    });
    await depositBondOnChain(
      chain.clients,
      alice,
      chain.token.address,
      chain.deployment.contracts.DataNetRegistry,
      bonded.dataNetId,
      10n * OPEN,
    );
    const after = await contribute(alice, row, bonded.dataNetId);
    expect(after.results[0]?.status).toBe('accepted');

    // Asking for the bond back stops new contributions (it could leave before a curator forfeits).
    await sendTx(chain.clients, alice, {
      address: chain.deployment.contracts.DataNetRegistry,
      abi: DataNetRegistryArtifact.abi,
      functionName: 'requestBondWithdrawal',
      args: [bonded.dataNetId],
    });
    const leaving = await contribute(
      alice,
      [{ question: 'What is the biggest moon?', answer: 'Ganymede is the biggest moon.' }],
      bonded.dataNetId,
    );
    expect(leaving.results[0]).toMatchObject({
      status: 'rejected',
      reason: 'bond',
      message: `contributor ${alice.address} has asked for the bond back; deposit again to keep contributing`,
    });
  });
});
