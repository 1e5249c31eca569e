/**
 * Crash safety of DataNets, with real processes: the node is killed with SIGKILL in the middle of a large
 * ingest and between preparing and committing a version. After a restart every acknowledged row is there
 * exactly once, resubmitting everything stores nothing twice, and a version becomes published only once its
 * root is committed on chain.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { type Anvil, connectChain, devAccount, startAnvil } from '../src/chain/index.js';
import {
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  parseRows,
  type Submission,
  signContributions,
  signReview,
} from '../src/datanets/index.js';
import { createNodeClient, nodeApi } from '../src/protocol/index.js';
import { rejectionOf } from './fixtures/errors.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tributary.js');
const DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'; // anvil dev account 0
/** A chain given by --rpc needs explicit beneficiaries: anvil dev accounts 1 and 2, liquidity to the deployer. */
const BENEFICIARIES = {
  TRIBUTARY_INVESTOR_BENEFICIARY: devAccount(1).address,
  TRIBUTARY_TEAM_BENEFICIARY: devAccount(2).address,
  TRIBUTARY_LIQUIDITY_RECIPIENT: devAccount(0).address,
};

function startNode(
  rpcUrl: string,
  dataDir: string,
): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; api: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'up', '--json', '--rpc', rpcUrl, '--data-dir', dataDir, '--port', '0'],
      {
        // PGlite only: what a SIGKILL can lose is the embedded store's, in the killed process (its files in the data
        // directory must hold every acknowledged row); a Postgres server outlives the node. The DataNet SQL runs on
        // Postgres in datanets.test.ts; resubmitting after a crash is exercised here only, on PGlite.
        env: { ...process.env, TRIBUTARY_DEPLOYER_KEY: DEPLOYER_KEY, ...BENEFICIARIES, DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve({ child, api: (JSON.parse(line) as { api: string }).api });
    });
    child.on('close', (code) => reject(new Error(`node exited ${code} before it was ready: ${err}`)));
  });
}

function kill(child: ChildProcessByStdio<null, Readable, Readable>): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    child.once('close', () => resolve());
    child.kill('SIGKILL');
  });
}

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    instruction: `Question number ${i} about topic ${(i * 7919) % 1009}?`,
    response: `Answer ${i}: ${Array.from({ length: 12 }, (_, k) => `w${(i * 31 + k * 17) % 997}`).join(' ')}.`,
  }));

describe('DataNets survive SIGKILL', () => {
  let anvil: Anvil | undefined;
  afterAll(async () => {
    await anvil?.stop();
  });

  it('keeps every acknowledged row exactly once and never half-publishes a version', async () => {
    anvil = await startAnvil();
    const clients = await connectChain(anvil.rpcUrl);
    const dataDir = mkdtempSync(join(tmpdir(), 'crash-'));
    let node = await startNode(anvil.rpcUrl, dataDir);
    let client = createDataNetClient(createNodeClient(node.api));
    const d = await createNodeClient(node.api).call(nodeApi.getDeployment);
    const registry = d.contracts.DataNetRegistry;
    if (!registry) throw new Error('the node names no DataNetRegistry');
    const domain = { chainId: d.chainId, registry };
    const owner = devAccount(8);
    const { dataNetId, metadata } = await createDataNetOnChain(clients, owner, registry, {
      name: 'crash test',
      schema: { type: 'object', required: ['instruction', 'response'] },
      license: { id: 'CC0-1.0' },
    });
    await client.register(dataNetId, metadata);
    const licenseId = (await client.get(dataNetId)).licenseId;
    const parsed = parseRows(
      new TextEncoder().encode(
        rows(1200)
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ),
      { format: 'jsonl' },
    ).rows;
    const submissions: Submission[] = [];
    for (const [i, signer] of [4, 5, 6].map(devAccount).entries()) {
      submissions.push(
        ...(
          await signContributions(parsed.slice(i * 400, (i + 1) * 400), {
            metadata,
            dataNetId,
            licenseId,
            signer,
            domain,
          })
        ).submissions,
      );
    }
    const batches = Array.from({ length: submissions.length / 50 }, (_, i) => submissions.slice(i * 50, (i + 1) * 50));

    // Ingest until a third of the batches are acknowledged, then kill the node with one batch in flight.
    const acknowledged: Hex[] = [];
    let b = 0;
    for (; b < batches.length / 3; b++) {
      for (const r of await client.submit(dataNetId, batches[b] as Submission[])) {
        expect(r.status).toBe('accepted');
        acknowledged.push(r.contributionId as Hex);
      }
    }
    const inFlight = client.submit(dataNetId, batches[b] as Submission[]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 15));
    await kill(node.child);
    await inFlight;

    node = await startNode(anvil.rpcUrl, dataDir);
    client = createDataNetClient(createNodeClient(node.api));
    const stored: Hex[] = [];
    for (let after: string | undefined; ; ) {
      const page = await client.contributions(dataNetId, { limit: 1000, ...(after ? { after } : {}) });
      stored.push(...page.items.map((c) => c.id));
      if (!page.next || page.items.length < 1000) break;
      after = page.next;
    }
    expect(new Set(stored).size).toBe(stored.length);
    for (const id of acknowledged) expect(stored).toContain(id);

    // Resubmitting everything, the in-flight batch included, stores nothing twice.
    const statuses = new Map<string, number>();
    for (const batch of batches)
      for (const r of await client.submit(dataNetId, batch)) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    expect([...statuses.keys()].sort()).toEqual(['accepted', 'already_submitted']);
    expect(statuses.get('already_submitted')).toBe(stored.length);
    expect((await client.get(dataNetId)).counts.pending).toBe(submissions.length);

    // Approve a few, prepare a version, and kill the node before the root is on chain: nothing is published.
    const some = (await client.contributions(dataNetId, { status: 'pending', limit: 20 })).items;
    const reviews = [];
    for (const c of some)
      reviews.push(await signReview(owner, domain, { dataNetId, contributionId: c.id, approve: true, reason: 'ok' }));
    await client.review(dataNetId, reviews);
    const draft = await client.prepareVersion(dataNetId);
    await kill(node.child);
    node = await startNode(anvil.rpcUrl, dataDir);
    client = createDataNetClient(createNodeClient(node.api));
    expect(await client.version(dataNetId, 1)).toMatchObject({ status: 'draft', root: draft.root });
    expect((await rejectionOf(client.exportVersion(dataNetId, 1))).code).toBe('CONFLICT');

    // The curator commits while the node is down; on restart the node publishes exactly that draft.
    await kill(node.child);
    await commitVersionOnChain(clients, owner, registry, draft);
    node = await startNode(anvil.rpcUrl, dataDir);
    client = createDataNetClient(createNodeClient(node.api));
    expect(await client.version(dataNetId, 1)).toMatchObject({ status: 'published', root: draft.root, count: 20 });
    expect((await client.exportVersion(dataNetId, 1)).trim().split('\n')).toHaveLength(20);
    await kill(node.child);
    // Four node processes start and stop here; on a loaded 2-core CI machine that takes over the default minute.
  }, 240_000);
});
