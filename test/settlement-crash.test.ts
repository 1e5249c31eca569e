/**
 * Closing an epoch survives SIGKILL at every step, with real processes: the node is killed right after computing
 * the payouts, after redeeming a voucher, and after posting the root on chain. Rerunning `close` on a restarted
 * node posts the same root exactly once, redeems nothing twice and loses no receipt.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import OpenAI from 'openai';
import { type Address, parseUnits, toHex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Anvil,
  advanceTime,
  connectChain,
  type Deployment,
  devAccount,
  OPEN,
  OpenTokenArtifact,
  RewardDistributorArtifact,
  readDeployment,
  StakingArtifact,
  sendTx,
  stakingRoles,
  startAnvil,
} from '../src/chain/index.js';
import { createNodeClient, settlementApi } from '../src/protocol/index.js';
import { createPayingFetch, openChannel } from '../src/settlement/index.js';
import { registerTestModel } from './fixtures/models.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tributary.js');
const DEPLOYER = devAccount(0);
const NODE = devAccount(13);
const USER = devAccount(14);
const OWNER = devAccount(2);
const MODEL = 'crash-model';

type Child = ChildProcessByStdio<null, Readable, Readable>;

function startNode(rpcUrl: string, dataDir: string, failpoints = ''): Promise<{ child: Child; api: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [BIN, 'up', '--json', '--rpc', rpcUrl, '--data-dir', dataDir, '--port', '0'],
      {
        env: {
          ...process.env,
          TRIBUTARY_DEPLOYER_KEY: toHex(DEPLOYER.getHdKey().privateKey as Uint8Array),
          // A chain given by --rpc needs explicit beneficiaries; the liquidity stays with the deployer, who funds below.
          TRIBUTARY_INVESTOR_BENEFICIARY: devAccount(1).address,
          TRIBUTARY_TEAM_BENEFICIARY: devAccount(2).address,
          TRIBUTARY_LIQUIDITY_RECIPIENT: DEPLOYER.address,
          TRIBUTARY_NODE_KEY: toHex(NODE.getHdKey().privateKey as Uint8Array),
          TRIBUTARY_FAILPOINTS: failpoints,
          // PGlite only: what a SIGKILL can lose is the embedded store's, in the killed process (its files in the
          // data directory must hold every committed step); a Postgres server outlives the node. The epoch steps' SQL
          // runs on Postgres in settlement.test.ts and settlement-nodes.test.ts; resuming a step after a crash is
          // exercised here only, on PGlite.
          DATABASE_URL: '',
        },
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

function exited(child: Child): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('close');
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode ?? child.exitCode);
    else child.once('close', (code, signal) => resolve(signal ?? code));
  });
}

async function stop(child: Child): Promise<void> {
  const done = exited(child);
  child.kill('SIGTERM');
  await done;
}

describe('closing an epoch survives SIGKILL', () => {
  let anvil: Anvil | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'settlement-crash-'));
  afterAll(async () => {
    await anvil?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('posts the same root once, redeems once and loses nothing, whichever step it dies at', async () => {
    anvil = await startAnvil();
    const clients = await connectChain(anvil.rpcUrl);
    let node = await startNode(anvil.rpcUrl, dataDir);
    const deployment: Deployment = readDeployment(join(dataDir, 'deployment.json'));
    const token = {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
    } as const;
    const distributor = {
      address: deployment.contracts.RewardDistributor,
      abi: RewardDistributorArtifact.abi,
    } as const;

    // The node's key stakes as a validator; a priced model; a user with a channel.
    const stake = 20_000n * OPEN;
    await sendTx(clients, DEPLOYER, { ...token, functionName: 'transfer', args: [NODE.address, stake] });
    await sendTx(clients, DEPLOYER, { ...token, functionName: 'transfer', args: [USER.address, 10n * OPEN] });
    await sendTx(clients, NODE, { ...token, functionName: 'approve', args: [deployment.contracts.Staking, stake] });
    await sendTx(clients, NODE, {
      address: deployment.contracts.Staking,
      abi: StakingArtifact.abi,
      contract: 'Staking',
      functionName: 'stake',
      args: [stakingRoles.validator, stake],
    });
    await registerTestModel({
      api: node.api,
      clients,
      deployment,
      owner: OWNER,
      name: MODEL,
      prices: { priceInPer1k: parseUnits('0.001', 18), priceOutPer1k: parseUnits('0.002', 18) },
    });
    const channelId = await openChannel({
      clients,
      deployment,
      user: USER,
      node: NODE.address,
      deposit: OPEN,
      durationSeconds: 90 * 86_400,
    });
    const paying = createPayingFetch({
      user: USER,
      channelId,
      node: NODE.address as Address,
      domain: { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow },
    });
    const operator = { authorization: `Bearer ${readFileSync(join(dataDir, 'operator-token'), 'utf8').trim()}` };

    const failpoints = ['epoch.computed', 'epoch.redeemed-one', 'epoch.posted-on-chain'];
    for (const [i, failpoint] of failpoints.entries()) {
      const epoch = i + 1;
      if (i > 0) await advanceTime(clients, 86_400 + 1); // the previous epoch's window passes
      await stop(node.child);
      node = await startNode(anvil.rpcUrl, dataDir, failpoint);
      const client = new OpenAI({ apiKey: 'x', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: paying.fetch });
      for (let k = 0; k < 2; k++)
        await client.completions.create({ model: MODEL, prompt: `Question ${epoch}.${k}`, max_tokens: 4 });
      await paying.payUp(node.api);
      const died = exited(node.child);
      await fetch(`${node.api}/v1/epochs/close`, { method: 'POST', headers: operator }).catch(() => undefined);
      expect(await died).toBe('SIGKILL');

      node = await startNode(anvil.rpcUrl, dataDir);
      const api = createNodeClient(node.api, { headers: operator });
      const before = await api.call(settlementApi.getEpoch, { params: { epoch } }).catch(() => undefined);
      const closed = await api.call(settlementApi.closeEpoch);
      expect(closed.epoch).toBe(epoch);
      expect(closed.receipts).toBe(2);
      if (before) expect(closed.payoutRoot).toBe(before.payoutRoot);
      const state = await clients.public.readContract({
        ...distributor,
        functionName: 'nodeState',
        args: [NODE.address],
      });
      expect(state.epochCount).toBe(BigInt(epoch));
      const posted = await clients.public.readContract({
        ...distributor,
        functionName: 'getEpoch',
        args: [NODE.address, BigInt(epoch)],
      });
      expect(posted.payoutRoot).toBe(closed.payoutRoot);
      // Every wei charged was redeemed once: the distributor holds exactly the fees of all epochs.
      expect(state.feesReceived).toBe(paying.charged());
      expect((await api.call(settlementApi.verifyEpoch, { params: { epoch } })).ok).toBe(true);
    }
    await stop(node.child);
  }, 240_000);
});
