/**
 * Settlement across independent nodes and channels that end, end to end on real nodes (one local anvil, each node
 * with its own key and its own database), on every store backend: two nodes serve, redeem and post their own epoch
 * sequences concurrently and a payee claims from both in one transaction; a channel closed before its node redeemed
 * never wedges that node's settlement, and the node redeems channels close to expiry on its own.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type Address, getAddress, type HDAccount, parseUnits, toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advanceTime,
  deploymentPath,
  devAccount,
  InferenceEscrowArtifact,
  OPEN,
  OpenTokenArtifact,
  RewardDistributorArtifact,
  sendTx,
  stakeFromDeployer,
} from '../src/chain/index.js';
import { loadConfig, silentLogger } from '../src/core/index.js';
import { type NodeUp, nodeUp } from '../src/node/index.js';
import { createNodeClient, openloraApi, settlementApi } from '../src/protocol/index.js';
import { claimPayouts, createPayingFetch, openChannel } from '../src/settlement/index.js';
import { expectRevert } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { uploadTestAdapter } from './fixtures/models.js';
import { startPaidNode } from './fixtures/paid-node.js';

const USER = devAccount(11);
const OWNER = devAccount(2);
const SECOND_NODE = devAccount(14);
const MODEL = 'two-node-model';
const prices = { priceInPer1k: parseUnits('0.001', 18), priceOutPer1k: parseUnits('0.002', 18) };

let a: NodeUp;
let b: NodeUp;
let stopA: () => Promise<void>;
let dirB: string;
let databaseB: { drop(): Promise<void> } | undefined;

const escrowOf = () =>
  ({
    address: a.chain.deployment.contracts.InferenceEscrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
  }) as const;

/** A user's paid questions to one node through a new channel; returns what was charged and paid. */
async function payNode(node: NodeUp, user: HDAccount, questions: string[], durationSeconds = 30 * 86_400) {
  const { clients, deployment } = a.chain;
  const nodeAddress = node.nodeAddress as Address;
  const channelId = await openChannel({
    clients,
    deployment,
    user,
    node: nodeAddress,
    deposit: 5n * OPEN,
    durationSeconds,
  });
  const paying = createPayingFetch({
    user,
    channelId,
    node: nodeAddress,
    domain: { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow },
    authNonce: 0n,
  });
  // The node's chain mirror may not have seen the model yet.
  await waitForModel(node);
  const client = new OpenAI({ apiKey: 'x', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: paying.fetch });
  for (const q of questions) await client.completions.create({ model: MODEL, prompt: q, max_tokens: 4 });
  await paying.payUp(node.api);
  return { channelId, charged: paying.charged() };
}

async function waitForModel(node: NodeUp) {
  const api = createNodeClient(node.api);
  for (let i = 0; i < 100; i++) {
    const ok = await api.call(openloraApi.getRegisteredModel, { params: { model: MODEL } }).then(
      () => true,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const operator = (node: NodeUp) =>
  createNodeClient(node.api, { headers: { authorization: `Bearer ${node.operatorToken}` } });

describe.each(storeBackends())('two nodes on $name', (backend) => {
  beforeAll(async () => {
    const first = await startPaidNode({
      name: 'node-a',
      backend,
      model: MODEL,
      owner: OWNER,
      prices,
      fund: { accounts: [USER], amount: 100n * OPEN },
    });
    a = first.node;
    stopA = first.stop;
    const { clients, deployment } = a.chain;
    // The second node: its own key (staked as a validator, which backs the epochs it posts) and its own database,
    // on the same chain and deployment.
    await stakeFromDeployer(clients, deployment, SECOND_NODE, 'validator', 20_000n * OPEN);
    dirB = mkdtempSync(join(tmpdir(), 'tributary-node-b-'));
    copyFileSync(deploymentPath(a.dataDir), deploymentPath(dirB));
    const database = await backend.nodeDatabase();
    databaseB = database;
    b = await nodeUp(
      loadConfig({
        flags: { dataDir: dirB, port: 0, rpcUrl: a.rpcUrl, databaseUrl: database.url },
        env: { TRIBUTARY_NODE_KEY: toHex(SECOND_NODE.getHdKey().privateKey as Uint8Array) },
      }),
      silentLogger(),
    );
    await uploadTestAdapter(b.api, first.adapter);
  }, 240_000);

  afterAll(async () => {
    await b?.stop();
    await stopA?.();
    if (dirB) rmSync(dirB, { recursive: true, force: true });
    await databaseB?.drop();
  });

  describe('settlement across nodes', () => {
    it('attack 5: two independent nodes settle their own epoch sequences concurrently; a payee claims both at once', async () => {
      const { clients, deployment } = a.chain;
      const distributor = {
        address: deployment.contracts.RewardDistributor,
        abi: RewardDistributorArtifact.abi,
      } as const;
      const paidA = await payNode(a, USER, ['Rivers?', 'Lakes?']);
      const paidB = await payNode(b, USER, ['Seas?']);
      // Both post "epoch 1" at the same time: each into its own sequence; neither can take the other's number.
      const [ea, eb] = await Promise.all([
        operator(a).call(settlementApi.closeEpoch),
        operator(b).call(settlementApi.closeEpoch),
      ]);
      expect([ea.epoch, eb.epoch]).toEqual([1, 1]);
      expect(ea.feesWei).toBe(paidA.charged);
      expect(eb.feesWei).toBe(paidB.charged);
      for (const [node, e] of [
        [a, ea],
        [b, eb],
      ] as const) {
        const onChain = await clients.public.readContract({
          ...distributor,
          functionName: 'getEpoch',
          args: [node.nodeAddress as Address, 1n],
        });
        expect(onChain.payoutRoot).toBe(e.payoutRoot);
        expect((await createNodeClient(node.api).call(settlementApi.verifyEpoch, { params: { epoch: 1 } })).ok).toBe(
          true,
        );
      }

      const params = await a.settlement.params();
      await advanceTime(clients, Number(params.challengeWindow) + 1);
      await operator(a).call(settlementApi.finalizeEpoch, { params: { epoch: 1 } });
      await operator(b).call(settlementApi.finalizeEpoch, { params: { epoch: 1 } });
      const claims = [];
      for (const node of [a, b]) {
        const p = await createNodeClient(node.api).call(settlementApi.getPayout, {
          params: { address: OWNER.address },
        });
        expect(getAddress(p.node)).toBe(getAddress(node.nodeAddress as Address));
        expect(p.claimableWei).toBeGreaterThan(0n);
        claims.push({ node: p.node, account: OWNER.address, cumulative: p.cumulativeWei, proof: p.proof });
      }
      const token = { address: deployment.contracts.OpenToken, abi: OpenTokenArtifact.abi } as const;
      const before = await clients.public.readContract({ ...token, functionName: 'balanceOf', args: [OWNER.address] });
      await claimPayouts(clients, deployment, USER, claims);
      const after = await clients.public.readContract({ ...token, functionName: 'balanceOf', args: [OWNER.address] });
      expect(after - before).toBe(claims[0]!.cumulative + claims[1]!.cumulative);
      await expectRevert(claimPayouts(clients, deployment, USER, claims), 'NothingToClaim');
    }, 240_000);

    it('attack 2: a channel closed before its node redeemed never wedges settlement; the rest settles and the loss is reported', async () => {
      const { clients } = a.chain;
      const escrow = escrowOf();
      const grace = Number(await clients.public.readContract({ ...escrow, functionName: 'settlementGrace' }));
      // Node b is away (its redeemer only looks at channels close to expiry, and we jump past expiry and grace).
      const lost = await payNode(b, USER, ['Mountains?'], 3_600);
      await advanceTime(clients, 3_600 + grace + 1);
      await sendTx(clients, USER, { ...escrow, functionName: 'close', args: [lost.channelId] });
      const kept = await payNode(b, USER, ['Valleys?', 'Deserts?']);
      const e = await operator(b).call(settlementApi.closeEpoch);
      expect(e.status).toBe('posted');
      const redeemedByB = (
        await clients.public.readContract({ ...escrow, functionName: 'getChannel', args: [lost.channelId] })
      ).redeemed;
      // Everything redeemed from the lost channel (if the redeemer beat the user) plus the kept channel settles.
      expect(e.feesWei).toBe(kept.charged + redeemedByB);
      const { items } = await createNodeClient(b.api).call(settlementApi.listUnredeemable);
      expect(items.filter((r) => r.channelId === lost.channelId).length).toBe(redeemedByB === 0n ? 1 : 0);
      // And the next epoch is not stuck either.
      await advanceTime(clients, 86_400 + 1);
      await payNode(b, USER, ['Glaciers?']);
      const next = await operator(b).call(settlementApi.closeEpoch);
      expect(next).toMatchObject({ epoch: e.epoch + 1, status: 'posted' });
    }, 240_000);

    it('redeems channels close to expiry on its own, before the user may close them', async () => {
      const { clients } = a.chain;
      const escrow = escrowOf();
      const paid = await payNode(a, USER, ['Forests?'], 3_600);
      await advanceTime(clients, 3_600 + 1);
      await expectRevert(
        sendTx(clients, USER, { ...escrow, functionName: 'close', args: [paid.channelId] }),
        'InSettlementGrace',
      );
      const r = await a.settlement.epochs().redeemExpiring(600n);
      expect(r.redeemed).toBeGreaterThanOrEqual(1);
      const c = await clients.public.readContract({ ...escrow, functionName: 'getChannel', args: [paid.channelId] });
      expect(c.redeemed).toBe(paid.charged);
    }, 120_000);
  });
});
