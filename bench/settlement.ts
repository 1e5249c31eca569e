/**
 * Settlement on a fresh local chain, from real transaction receipts: gas to redeem a voucher, to post an epoch
 * root for 10 and for 10,000 payees (it should not depend on the count), to claim (for an account that holds
 * OPEN already and for one that does not; one by one and batched), against the baseline of paying every payee
 * with its own token transfer, measured in the same run. Then the wall time of closing an epoch of 100,000 paid
 * receipts (compute payouts + export + root, redeem, post) on PGlite, and on Postgres when DATABASE_URL is set.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Address, keccak256, parseUnits, type TransactionReceipt, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  advanceTime,
  type ChainClients,
  connectChain,
  type Deployment,
  defaultDeployParameters,
  deployProtocol,
  devAccount,
  devRoles,
  InferenceEscrowArtifact,
  merkleTree,
  OPEN,
  OpenTokenArtifact,
  RewardDistributorArtifact,
  sendTx,
  stakeFromDeployer,
  startAnvil,
} from '../src/chain/index.js';
import { canonicalJson } from '../src/core/index.js';
import {
  computeFee,
  createChannels,
  createEpochs,
  createParamsReader,
  openChannel,
  payoutLeaf,
  signVoucher,
} from '../src/settlement/index.js';
import { createFsBlobStore, type Db, migrate, migrations, openPglite, openPostgres } from '../src/store/index.js';

const line = (op: string, fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ suite: 'settlement', op, ...fields })}\n`);
const gas = (r: TransactionReceipt) => Number(r.gasUsed);
const DAY = 86_400;

/** Deterministic throw-away accounts (payees). */
const payee = (i: number) => privateKeyToAccount(keccak256(toHex(`tributary-bench-payee-${i}`))).address;

function stakeValidator(clients: ChainClients, deployment: Deployment, who: ReturnType<typeof devAccount>) {
  return stakeFromDeployer(clients, deployment, who, 'validator', 20_000n * OPEN);
}

function tree(entries: [Address, bigint][]) {
  return merkleTree(entries.map(([a, v]) => payoutLeaf(a, v)));
}

export async function run(): Promise<void> {
  const anvil = await startAnvil();
  try {
    const clients = await connectChain(anvil.rpcUrl);
    const deployer = devAccount(devRoles.deployer);
    const validator = devAccount(3);
    const user = devAccount(5);
    const deployment = await deployProtocol({
      clients,
      deployer,
      parameters: defaultDeployParameters({ deployer: deployer.address }),
    });
    const token = {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
    } as const;
    const distributor = {
      address: deployment.contracts.RewardDistributor,
      abi: RewardDistributorArtifact.abi,
      contract: 'RewardDistributor',
    } as const;
    const escrow = {
      address: deployment.contracts.InferenceEscrow,
      abi: InferenceEscrowArtifact.abi,
      contract: 'InferenceEscrow',
    } as const;
    await stakeValidator(clients, deployment, validator);
    await sendTx(clients, deployer, { ...token, functionName: 'transfer', args: [user.address, 1_000n * OPEN] });

    // Vouchers: the node redeems the latest one whenever it likes, one transaction for any number of requests.
    const domain = { chainId: deployment.chainId, escrow: escrow.address };
    const channelId = await openChannel({
      clients,
      deployment,
      user,
      node: validator.address,
      deposit: 100n * OPEN,
      durationSeconds: 90 * DAY,
    });
    const redeem = async (amount: bigint) => {
      const signature = await signVoucher(user, domain, {
        channelId,
        node: validator.address,
        cumulativeAmount: amount,
      });
      return sendTx(clients, validator, { ...escrow, functionName: 'redeem', args: [channelId, amount, signature] });
    };
    line('redeemVoucher', { gas: gas(await redeem(20n * OPEN)), redemption: 'first' });
    line('redeemVoucher', { gas: gas(await redeem(60n * OPEN)), redemption: 'later' });

    // Epoch roots for 10 and 10,000 payees: the same transaction whatever the count. The very first post also
    // pays for initializing the distributor's counters, so it is reported apart and both measured posts are later.
    const small = Array.from({ length: 10 }, (_, i): [Address, bigint] => [payee(i), OPEN]);
    const large = Array.from({ length: 10_000 }, (_, i): [Address, bigint] => [
      payee(i),
      i < 10 ? 2n * OPEN : 10n ** 15n,
    ]);
    const cid = 'bafkreigqjme3ulzmgyhyizfrnknza4wwjl5amdhp75muptekar2v4ecmua';
    const total = (e: [Address, bigint][]) => e.reduce((s, [, v]) => s + v, 0n);
    const post = (epoch: bigint, entries: [Address, bigint][]) =>
      sendTx(clients, validator, {
        ...distributor,
        functionName: 'postEpoch',
        args: [epoch, tree(entries).root, total(entries), keccak256(toHex(`receipts-${epoch}`)), cid],
      });
    const finalize = async (epoch: bigint) => {
      await advanceTime(clients, DAY + 1);
      await sendTx(clients, validator, { ...distributor, functionName: 'finalize', args: [validator.address, epoch] });
    };
    const claim = (entries: [Address, bigint][], i: number) => {
      const [account, cumulative] = entries[i] as [Address, bigint];
      return sendTx(clients, user, {
        ...distributor,
        functionName: 'claim',
        args: [validator.address, account, cumulative, tree(entries).proof(payoutLeaf(account, cumulative))],
      });
    };
    const holder = async (a: Address) =>
      sendTx(clients, deployer, { ...token, functionName: 'transfer', args: [a, OPEN] });

    line('postFirstEpoch', { payees: 1, gas: gas(await post(1n, [[payee(0), 1n]])) });
    await finalize(1n);
    line('postEpoch', { payees: small.length, gas: gas(await post(2n, small)) });
    await finalize(2n);
    // Claims grow with the proof (log2 of the payees): measured under both roots, for a payee that already holds
    // OPEN (its balance slot exists) and for one that does not (a new balance slot: +17,100 gas in the token).
    await holder(payee(1));
    for (const [i, recipient] of [
      [1, 'holder'],
      [2, 'fresh'],
    ] as const) {
      line('claim', {
        gas: gas(await claim(small, i)),
        recipient,
        payees: small.length,
        proofLength: tree(small).proof(payoutLeaf(...(small[i] as [Address, bigint]))).length,
      });
    }
    const largeTree = tree(large);
    line('postEpoch', { payees: large.length, gas: gas(await post(3n, large)) });
    await finalize(3n);
    await holder(payee(20));
    const proofOf = (i: number) => largeTree.proof(payoutLeaf(...(large[i] as [Address, bigint])));
    for (const [i, recipient] of [
      [20, 'holder'],
      [21, 'fresh'],
    ] as const) {
      line('claim', {
        gas: gas(await claim(large, i)),
        recipient,
        payees: large.length,
        proofLength: proofOf(i).length,
      });
    }
    // A payee that claimed before (under epoch 2) claims what epoch 3 added: its claimed slot already exists.
    line('claim', {
      gas: gas(await claim(large, 1)),
      recipient: 'repeat',
      payees: large.length,
      proofLength: proofOf(1).length,
    });
    const batch = Array.from({ length: 20 }, (_, k) => 100 + k);
    const many = await sendTx(clients, user, {
      ...distributor,
      functionName: 'claimMany',
      args: [
        batch.map((i) => ({
          node: validator.address,
          account: large[i]?.[0] as Address,
          cumulativeAmount: large[i]?.[1] as bigint,
          proof: proofOf(i),
        })),
      ],
    });
    line('claimMany', {
      claims: batch.length,
      gas: gas(many),
      gasPerClaim: Math.round(gas(many) / batch.length),
      recipient: 'fresh',
      payees: large.length,
    });

    // Baseline: the distributor's job done by paying each payee its own transfer, per epoch.
    for (const n of [10, 1_000]) {
      let sum = 0;
      for (let i = 0; i < n; i++)
        sum += gas(
          await sendTx(clients, deployer, {
            ...token,
            functionName: 'transfer',
            args: [payee(50_000 + n + i), 10n ** 15n],
          }),
        );
      line('baselineTransfers', { payees: n, gas: sum, gasPerPayee: Math.round(sum / n) });
    }

    await closeEpochBench(clients, 'pglite', async (dir) => {
      const db = await openPglite(join(dir, 'db'));
      await migrate(db, migrations);
      return db;
    });
    const url = process.env.DATABASE_URL;
    if (url) {
      await closeEpochBench(clients, 'postgres', async () => {
        const db = await openPostgres({ url, schema: `bench_settlement_${Date.now().toString(36)}` });
        await migrate(db, migrations);
        return db;
      });
    }
  } finally {
    await anvil.stop();
  }
}

/** 100,000 paid receipts (3 contributions each among 1,000 contributors, 50 models) closed as one epoch. */
async function closeEpochBench(clients: ChainClients, store: string, open: (dir: string) => Promise<Db>) {
  const RECEIPTS = 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-settlement-'));
  const db = await open(dir);
  try {
    // A deployment of its own, so the node's epochs start at 1.
    const deployer = devAccount(devRoles.deployer);
    const deployment = await deployProtocol({
      clients,
      deployer,
      parameters: defaultDeployParameters({ deployer: deployer.address }),
    });
    const node = devAccount(7);
    const user = devAccount(6);
    await stakeValidator(clients, deployment, node);
    await sendTx(clients, deployer, {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
      functionName: 'transfer',
      args: [user.address, 100n * OPEN],
    });
    const params = createParamsReader(clients, deployment);
    const channels = createChannels(db, clients, deployment);
    const blobs = createFsBlobStore(join(dir, 'blobs'));
    const epochs = createEpochs({ db, clients, deployment, channels, blobs, params, node });
    const channelId = await openChannel({
      clients,
      deployment,
      user,
      node: node.address,
      deposit: 50n * OPEN,
      durationSeconds: 90 * DAY,
    });
    await channels.sync();

    const p = await params();
    const fee = computeFee(p, { inPer1k: parseUnits('0.001', 18), outPer1k: parseUnits('0.002', 18) }, 20, 40);
    const feeJson = canonicalJson(fee);
    const zero = `0x${'00'.repeat(32)}`;
    let charged = 0n;
    for (let start = 0; start < RECEIPTS; start += 1_000) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let i = start; i < start + 1_000; i++) {
        charged += fee.fee;
        const contributions = [0, 1, 2].map((k) => ({
          id: keccak256(toHex(`contribution-${(i * 7 + k * 331) % 5_000}`)),
          contributor: payee(10_000 + ((i * 13 + k * 97) % 1_000)),
          ppm: [500_000, 300_000, 100_000][k],
        }));
        const v = [
          keccak256(toHex(`receipt-${store}-${i}`)),
          `cmpl-bench-${i}`,
          (i % 50) + 1,
          `model-${i % 50}`,
          payee(20_000 + (i % 50)),
          feeJson,
          JSON.stringify({ contributions }),
          channelId.toString(),
          charged.toString(),
          fee.fee.toString(),
        ];
        const b = values.length;
        rows.push(
          `($${b + 1}, $${b + 2}, '${zero}', $${b + 3}, $${b + 4}, $${b + 5}, 20, 40, $${b + 10}, $${b + 6}::jsonb, $${b + 7}::jsonb, '${zero}', '${zero}', $${b + 8}, $${b + 9}, '${node.address}', '0x')`,
        );
        values.push(...v);
      }
      await db.query(
        `INSERT INTO receipts (id, request_id, request_hash, model_id, model_name, model_owner, input_tokens, output_tokens, fee, fee_breakdown, attribution, attribution_hash, output_hash, channel_id, charged_after, node, signature)
         VALUES ${rows.join(', ')}`,
        values,
      );
    }
    await db.query('UPDATE channels SET charged = $2 WHERE id = $1', [channelId.toString(), charged.toString()]);
    const signature = await signVoucher(user, channels.domain, {
      channelId,
      node: node.address,
      cumulativeAmount: charged,
    });
    await channels.acceptVoucher(channelId, node.address, { amount: charged, signature });

    const started = performance.now();
    const e = await epochs.close();
    const seconds = (performance.now() - started) / 1000;
    const payees = (
      await db.query<{ n: number }>('SELECT count(*)::int AS n FROM epoch_payouts WHERE epoch = $1', [e.epoch])
    ).rows[0]?.n;
    line('closeEpoch', {
      store,
      receipts: e.receipts,
      payees,
      seconds: Math.round(seconds * 100) / 100,
      postGas: e.postGas === null ? null : Number(e.postGas),
      feesWei: e.fees.toString(),
    });
    await advanceTime(clients, DAY + 1);
    await epochs.finalize(e.epoch);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
