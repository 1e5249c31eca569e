/**
 * RewardDistributor: fees arrive from the escrow; a staked validator posts one Merkle root of cumulative payouts
 * per epoch; after the challenge window anyone claims for anyone with a proof; a staker can challenge the newest
 * epoch with a bond and the timelock (governance) resolves: upheld → root replaced, attestor slashed, bond back;
 * rejected → bond to the treasury. Also measures the gas of posting (constant in the number of payees) and of
 * claiming.
 */
import {
  type Account,
  type Address,
  encodeAbiParameters,
  type HDAccount,
  type Hex,
  keccak256,
  maxUint256,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  zeroAddress,
  zeroHash,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  contractError,
  deployContract,
  encodeCall,
  InferenceEscrowArtifact,
  merkleTree,
  OPEN,
  ProtocolConfigArtifact,
  passProposal,
  RewardDistributorArtifact,
  roleIds,
  StakingArtifact,
  stakingRoles,
  standardLeaf,
} from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const DAY = 86_400n;
const WINDOW = DAY;
const BOND = 1_000n * OPEN;
const ATTESTOR_STAKE = 20_000n * OPEN;
/** Fees already redeemed into the distributor when each test starts. */
const FEES = 10_000n * OPEN;
const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
const { validator, servingNode, agent } = stakingRoles;

// ------------------------------------------------------------------------------------------------- helpers

const distributor = (c: TestChain) =>
  ({
    address: c.deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  }) as const;
const escrow = (c: TestChain) =>
  ({
    address: c.deployment.contracts.InferenceEscrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
  }) as const;
const config = (c: TestChain) =>
  ({
    address: c.deployment.contracts.ProtocolConfig,
    abi: ProtocolConfigArtifact.abi,
    contract: 'ProtocolConfig',
  }) as const;

const balanceOf = (c: TestChain, who: Address) =>
  c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });
const read = <T>(c: TestChain, functionName: string, args: readonly unknown[] = []) =>
  c.clients.public.readContract({ ...distributor(c), functionName, args } as never) as Promise<T>;
const claimedOf = (c: TestChain, who: Address) => read<bigint>(c, 'claimed', [who]);
const getEpoch = (c: TestChain, epoch: bigint) =>
  c.clients.public
    .readContract({ ...distributor(c), functionName: 'getEpoch', args: [epoch] })
    .then((e) => ({ ...e }))
    .catch((e: unknown) => {
      throw contractError(e, 'RewardDistributor.getEpoch', RewardDistributorArtifact.abi);
    });
const now = async (c: TestChain) => (await c.clients.public.getBlock()).timestamp;

/** A deterministic address with no keys in use anywhere else (a payee that has never held anything). */
const payee = (label: string): Address => privateKeyToAddress(keccak256(stringToHex(`payee ${label}`)));

/** A payout tree over (account, cumulative amount). */
interface Payouts {
  root: Hex;
  total: bigint;
  amounts: Map<Address, bigint>;
  /** [cumulative, proof] for `account`. */
  of(account: Address): { amount: bigint; proof: Hex[] };
}
function payouts(entries: readonly (readonly [Address, bigint])[]): Payouts {
  const leafOf = (a: Address, amount: bigint) => standardLeaf(['address', 'uint256'], [a, amount]);
  const tree = merkleTree(entries.map(([a, amount]) => leafOf(a, amount)));
  const amounts = new Map(entries.map(([a, amount]) => [a, amount] as const));
  return {
    root: tree.root,
    total: entries.reduce((s, [, amount]) => s + amount, 0n),
    amounts,
    of(account) {
      const amount = amounts.get(account);
      if (amount === undefined) throw new Error(`${account} is not a payee`);
      return { amount, proof: tree.proof(leafOf(account, amount)) };
    },
  };
}

const receiptsRoot = (epoch: bigint) => keccak256(stringToHex(`receipts of epoch ${epoch}`));

interface Cast {
  payer: HDAccount;
  node: HDAccount;
  attestor: HDAccount;
  challenger: HDAccount;
  alice: HDAccount;
  bob: HDAccount;
}
function cast(c: TestChain): Cast {
  const [payer, node, attestor, challenger, alice, bob] = c.users as [
    HDAccount,
    HDAccount,
    HDAccount,
    HDAccount,
    HDAccount,
    HDAccount,
  ];
  return { payer, node, attestor, challenger, alice, bob };
}

/** The payer's channel to the node: fees are added by redeeming ever larger vouchers on it. */
const CHANNEL = 1n;
const CHANNEL_DEPOSIT = 1_000_000n * OPEN;
let redeemedSoFar = 0n;

async function addFees(c: TestChain, amount: bigint): Promise<void> {
  const { payer, node } = cast(c);
  const redeemed = (await c.clients.public.readContract({ ...escrow(c), functionName: 'getChannel', args: [CHANNEL] }))
    .redeemed;
  const cumulativeAmount = redeemed + amount;
  const signature = await payer.signTypedData({
    domain: {
      name: 'Tributary InferenceEscrow',
      version: '1',
      chainId: c.clients.chain.id,
      verifyingContract: escrow(c).address,
    },
    types: {
      Voucher: [
        { name: 'channelId', type: 'uint256' },
        { name: 'node', type: 'address' },
        { name: 'cumulativeAmount', type: 'uint256' },
      ],
    },
    primaryType: 'Voucher',
    message: { channelId: CHANNEL, node: node.address, cumulativeAmount },
  });
  await send(c, node, { ...escrow(c), functionName: 'redeem', args: [CHANNEL, cumulativeAmount, signature] });
  redeemedSoFar = cumulativeAmount;
}

async function stake(c: TestChain, who: HDAccount, role: number, amount: bigint): Promise<void> {
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
  await send(c, who, { ...c.token, functionName: 'approve', args: [c.staking.address, maxUint256] });
  await send(c, who, { ...c.staking, functionName: 'stake', args: [role, amount] });
}

/** Once per file (the per-test snapshots start from here): fees in, a validator attestor, a staked challenger. */
beforeAll(async () => {
  const c = chain();
  const { payer, node, attestor, challenger } = cast(c);
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [payer.address, CHANNEL_DEPOSIT] });
  await send(c, payer, { ...c.token, functionName: 'approve', args: [escrow(c).address, maxUint256] });
  await send(c, payer, {
    ...escrow(c),
    functionName: 'openChannel',
    args: [node.address, CHANNEL_DEPOSIT, 365n * DAY],
  });
  await addFees(c, FEES);
  await stake(c, attestor, validator, ATTESTOR_STAKE);
  await stake(c, challenger, agent, 100n * OPEN);
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [challenger.address, 10n * BOND] });
  await send(c, challenger, { ...c.token, functionName: 'approve', args: [distributor(c).address, maxUint256] });
  expect(redeemedSoFar).toBe(FEES);
});

const postEpoch = (
  c: TestChain,
  who: Account,
  epoch: bigint,
  root: Hex,
  total: bigint,
  cid: string = CID,
): Promise<TransactionReceipt> =>
  send(c, who, { ...distributor(c), functionName: 'postEpoch', args: [epoch, root, total, receiptsRoot(epoch), cid] });

/** Posts `p` as `epoch` by the attestor; returns the receipt and the epoch's finalAt. */
async function post(
  c: TestChain,
  epoch: bigint,
  p: Payouts,
): Promise<{ receipt: TransactionReceipt; finalAt: bigint }> {
  const receipt = await postEpoch(c, cast(c).attestor, epoch, p.root, p.total);
  const [event] = parseEventLogs({ abi: RewardDistributorArtifact.abi, logs: receipt.logs, eventName: 'EpochPosted' });
  if (!event) throw new Error('no EpochPosted');
  return { receipt, finalAt: event.args.finalAt };
}

/** Posts `p` as `epoch` and lets its window pass, then finalizes it. */
async function postFinal(c: TestChain, epoch: bigint, p: Payouts): Promise<void> {
  const { finalAt } = await post(c, epoch, p);
  await warpTo(c, finalAt);
  await send(c, cast(c).bob, { ...distributor(c), functionName: 'finalize', args: [epoch] });
}

const claim = (c: TestChain, by: Account, account: Address, p: Payouts, amount?: bigint) => {
  const { amount: owed, proof } = p.of(account);
  return send(c, by, { ...distributor(c), functionName: 'claim', args: [account, amount ?? owed, proof] });
};
const claimMany = (c: TestChain, by: Account, accounts: Address[], p: Payouts) =>
  send(c, by, {
    ...distributor(c),
    functionName: 'claimMany',
    args: [accounts, accounts.map((a) => p.of(a).amount), accounts.map((a) => p.of(a).proof)],
  });
const challenge = (c: TestChain, who: Account, epoch: bigint) =>
  send(c, who, { ...distributor(c), functionName: 'challenge', args: [epoch] });

interface Correction {
  payoutRoot: Hex;
  cumulativeTotal: bigint;
  receiptsRoot: Hex;
  receiptsCID: string;
}
const correction = (p: Payouts, epoch: bigint): Correction => ({
  payoutRoot: p.root,
  cumulativeTotal: p.total,
  receiptsRoot: keccak256(stringToHex(`corrected receipts of epoch ${epoch}`)),
  receiptsCID: `${CID}-corrected`,
});
const noCorrection: Correction = { payoutRoot: zeroHash, cumulativeTotal: 0n, receiptsRoot: zeroHash, receiptsCID: '' };
const resolve = (
  c: TestChain,
  who: Account | Address,
  epoch: bigint,
  upheld: boolean,
  fix: Correction,
  slash: bigint,
) => send(c, who, { ...distributor(c), functionName: 'resolveChallenge', args: [epoch, upheld, fix, slash] });

const events = (receipt: TransactionReceipt, eventName: string) =>
  parseEventLogs({ abi: RewardDistributorArtifact.abi, logs: receipt.logs })
    .filter((e) => e.eventName === eventName)
    .map((e) => e.args as Record<string, unknown>);

const A = payee('A');
const B = payee('B');
const C = payee('C');

// --------------------------------------------------------------------------------------------------- tests

describe('RewardDistributor: deployment', () => {
  it('is wired: escrow records fees, the timelock resolves and administers, it may slash on Staking', async () => {
    const c = chain();
    const d = distributor(c);
    expect(await read<Address>(c, 'token')).toBe(c.token.address);
    expect(await read<Address>(c, 'staking')).toBe(c.staking.address);
    expect(await read<Address>(c, 'config')).toBe(config(c).address);
    expect(await read<Hex>(c, 'FEE_SOURCE_ROLE')).toBe(roleIds.FEE_SOURCE);
    expect(await read<Hex>(c, 'RESOLVER_ROLE')).toBe(roleIds.RESOLVER);
    const has = (role: Hex, who: Address) => read<boolean>(c, 'hasRole', [role, who]);
    expect(await has(roleIds.FEE_SOURCE, escrow(c).address)).toBe(true);
    expect(await has(roleIds.RESOLVER, c.timelock.address)).toBe(true);
    expect(await has(roleIds.DEFAULT_ADMIN, c.timelock.address)).toBe(true);
    for (const role of [roleIds.DEFAULT_ADMIN, roleIds.FEE_SOURCE, roleIds.RESOLVER])
      expect(await has(role, c.deployer.address)).toBe(false);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'hasRole',
        args: [roleIds.SLASHER, d.address],
      }),
    ).toBe(true);
    expect(await read<bigint>(c, 'epochCount')).toBe(0n);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(0n);
    expect(await read<Hex>(c, 'claimRoot')).toBe(zeroHash);
    expect(await read<bigint>(c, 'feesReceived')).toBe(FEES);
    expect(await balanceOf(c, d.address)).toBe(FEES);
    await expectRevert(getEpoch(c, 1n), 'UnknownEpoch', [1n]);
  });

  it('payoutLeaf is the standard leaf of (address, uint256) that src/chain/merkle.ts builds', async () => {
    const c = chain();
    for (const [a, amount] of [
      [A, 1n],
      [B, 123n * OPEN],
      [zeroAddress, maxUint256],
    ] as const)
      expect(await read<Hex>(c, 'payoutLeaf', [a, amount])).toBe(standardLeaf(['address', 'uint256'], [a, amount]));
  });

  it('refuses zero addresses in the constructor', async () => {
    const c = chain();
    const args = [c.token.address, c.staking.address, config(c).address, c.deployer.address] as const;
    for (let i = 0; i < args.length; i++) {
      const bad = args.map((a, j) => (i === j ? zeroAddress : a)) as unknown as typeof args;
      await expectRevert(deployContract(c.clients, c.deployer, RewardDistributorArtifact, bad), 'ZeroAddress', []);
    }
  });
});

describe('RewardDistributor: recordFees', () => {
  it('is refused to anyone without FEE_SOURCE_ROLE (deployer, node, timelock included)', async () => {
    const c = chain();
    const { node, payer } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    for (const who of [c.deployer.address, node.address, payer.address, timelock])
      await expectRevert(
        send(c, who, { ...distributor(c), functionName: 'recordFees', args: [node.address, 1n, OPEN] }),
        'AccessControlUnauthorizedAccount',
        [who, roleIds.FEE_SOURCE],
      );
    expect(await read<bigint>(c, 'feesReceived')).toBe(FEES);
  });

  it('counts fees from a fee source the timelock granted, with FeesRecorded', async () => {
    const c = chain();
    const { bob, node } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...distributor(c), functionName: 'grantRole', args: [roleIds.FEE_SOURCE, bob.address] });
    const receipt = await send(c, bob, { ...distributor(c), functionName: 'recordFees', args: [node.address, 9n, 5n] });
    expect(events(receipt, 'FeesRecorded')).toEqual([
      { node: node.address, channelId: 9n, amount: 5n, feesReceived: FEES + 5n },
    ]);
    expect(await read<bigint>(c, 'feesReceived')).toBe(FEES + 5n);
  });
});

describe('RewardDistributor: postEpoch', () => {
  it('records the epoch and emits EpochPosted with finalAt = now + window', async () => {
    const c = chain();
    const { attestor } = cast(c);
    const p = payouts([
      [A, 100n],
      [B, 250n],
    ]);
    const { receipt, finalAt } = await post(c, 1n, p);
    const t = (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
    expect(finalAt).toBe(t + WINDOW);
    expect(events(receipt, 'EpochPosted')).toEqual([
      {
        epoch: 1n,
        attestor: attestor.address,
        payoutRoot: p.root,
        cumulativeTotal: 350n,
        receiptsRoot: receiptsRoot(1n),
        receiptsCID: CID,
        finalAt,
      },
    ]);
    expect(events(receipt, 'EpochFinalized')).toEqual([]);
    expect(await getEpoch(c, 1n)).toEqual({
      payoutRoot: p.root,
      receiptsRoot: receiptsRoot(1n),
      cumulativeTotal: 350n,
      postedAt: t,
      finalAt,
      attestor: attestor.address,
      challenged: false,
      challenger: zeroAddress,
      bond: 0n,
      receiptsCID: CID,
    });
    expect(await read<bigint>(c, 'epochCount')).toBe(1n);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(0n);
    expect(await read<Hex>(c, 'claimRoot')).toBe(zeroHash);
  });

  it('refuses an unstaked account and a serving-node-only staker (NotAttestor)', async () => {
    const c = chain();
    const { bob, node, challenger } = cast(c);
    const p = payouts([[A, 1n]]);
    const err = await expectRevert(postEpoch(c, bob, 1n, p.root, p.total), 'NotAttestor', [bob.address]);
    expect(err.message).toBe(`RewardDistributor.postEpoch reverted with NotAttestor("${bob.address}")`);
    await stake(c, node, servingNode, 50_000n * OPEN);
    await expectRevert(postEpoch(c, node, 1n, p.root, p.total), 'NotAttestor', [node.address]);
    // An agent stake does not make an attestor either.
    await expectRevert(postEpoch(c, challenger, 1n, p.root, p.total), 'NotAttestor', [challenger.address]);
  });

  it('refuses a validator whose stake fell below a raised minimum', async () => {
    const c = chain();
    const { attestor } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...c.staking, functionName: 'setMinimumStake', args: [validator, ATTESTOR_STAKE + 1n] });
    const p = payouts([[A, 1n]]);
    await expectRevert(postEpoch(c, attestor, 1n, p.root, p.total), 'NotAttestor', [attestor.address]);
  });

  it('refuses epochs out of order (EpochOutOfOrder)', async () => {
    const c = chain();
    const { attestor } = cast(c);
    const p = payouts([[A, 1n]]);
    await expectRevert(postEpoch(c, attestor, 0n, p.root, p.total), 'EpochOutOfOrder', [1n, 0n]);
    await expectRevert(postEpoch(c, attestor, 2n, p.root, p.total), 'EpochOutOfOrder', [1n, 2n]);
    const { finalAt } = await post(c, 1n, p);
    await warpTo(c, finalAt);
    await expectRevert(postEpoch(c, attestor, 1n, p.root, p.total), 'EpochOutOfOrder', [2n, 1n]);
    await expectRevert(postEpoch(c, attestor, 3n, p.root, p.total), 'EpochOutOfOrder', [2n, 3n]);
  });

  it('refuses a total above the fees received (ExceedsFees); exactly the fees is fine', async () => {
    const c = chain();
    const { attestor } = cast(c);
    const p = payouts([[A, FEES + 1n]]);
    await expectRevert(postEpoch(c, attestor, 1n, p.root, p.total), 'ExceedsFees', [FEES + 1n, FEES]);
    await addFees(c, 1n);
    await post(c, 1n, p);
  });

  it('refuses a cumulative total below the previous epoch (TotalDecreased); equal is fine', async () => {
    const c = chain();
    const { attestor } = cast(c);
    const first = payouts([[A, 500n]]);
    const { finalAt } = await post(c, 1n, first);
    await warpTo(c, finalAt);
    const lower = payouts([[A, 499n]]);
    await expectRevert(postEpoch(c, attestor, 2n, lower.root, lower.total), 'TotalDecreased', [500n, 499n]);
    await post(c, 2n, payouts([[B, 500n]]));
  });

  it('refuses the next epoch while the previous is in its window or challenged (PreviousEpochNotFinal)', async () => {
    const c = chain();
    const { attestor, challenger } = cast(c);
    const p1 = payouts([[A, 100n]]);
    const p2 = payouts([[A, 200n]]);
    const { finalAt } = await post(c, 1n, p1);
    await expectRevert(postEpoch(c, attestor, 2n, p2.root, p2.total), 'PreviousEpochNotFinal', [1n, finalAt, false]);
    await warpTo(c, finalAt - 1n);
    await expectRevert(postEpoch(c, attestor, 2n, p2.root, p2.total), 'PreviousEpochNotFinal', [1n, finalAt, false]);
    await challenge(c, challenger, 1n);
    await warpTo(c, finalAt + 30n * DAY);
    await expectRevert(postEpoch(c, attestor, 2n, p2.root, p2.total), 'PreviousEpochNotFinal', [1n, finalAt, true]);
    // Nor can the challenged epoch be finalized by time alone.
    await expectRevert(send(c, attestor, { ...distributor(c), functionName: 'finalize', args: [1n] }), 'NotFinal', [
      1n,
      finalAt,
      true,
    ]);
  });

  it('posting the next epoch after the window finalizes the previous (EpochFinalized in the same transaction)', async () => {
    const c = chain();
    const p1 = payouts([[A, 100n]]);
    const p2 = payouts([
      [A, 150n],
      [B, 50n],
    ]);
    const { finalAt } = await post(c, 1n, p1);
    await warpTo(c, finalAt);
    const { receipt } = await post(c, 2n, p2);
    expect(events(receipt, 'EpochFinalized')).toEqual([{ epoch: 1n, payoutRoot: p1.root }]);
    const names = parseEventLogs({ abi: RewardDistributorArtifact.abi, logs: receipt.logs }).map((e) => e.eventName);
    expect(names).toEqual(['EpochFinalized', 'EpochPosted']);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(1n);
    expect(await read<Hex>(c, 'claimRoot')).toBe(p1.root);
    expect(await read<bigint>(c, 'epochCount')).toBe(2n);
  });

  it('an explicitly finalized previous epoch is not finalized twice by the next post', async () => {
    const c = chain();
    const p1 = payouts([[A, 100n]]);
    await postFinal(c, 1n, p1);
    const { receipt } = await post(c, 2n, payouts([[A, 100n]]));
    expect(events(receipt, 'EpochFinalized')).toEqual([]);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(1n);
  });

  it('uses the challenge window governance sets for new epochs', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [3n * DAY, BOND] });
    const { receipt, finalAt } = await post(c, 1n, payouts([[A, 1n]]));
    const t = (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
    expect(finalAt).toBe(t + 3n * DAY);
  });
});

describe('RewardDistributor: finalize', () => {
  it('refuses unknown epochs and epochs in their window; anyone may finalize afterwards', async () => {
    const c = chain();
    const { bob } = cast(c);
    const fin = (epoch: bigint) => send(c, bob, { ...distributor(c), functionName: 'finalize', args: [epoch] });
    await expectRevert(fin(0n), 'UnknownEpoch', [0n]);
    await expectRevert(fin(1n), 'UnknownEpoch', [1n]);
    const p = payouts([[A, 1n]]);
    const { finalAt } = await post(c, 1n, p);
    await expectRevert(fin(2n), 'UnknownEpoch', [2n]);
    await expectRevert(fin(1n), 'NotFinal', [1n, finalAt, false]);
    await warpTo(c, finalAt - 1n);
    await expectRevert(fin(1n), 'NotFinal', [1n, finalAt, false]);
    await warpTo(c, finalAt);
    const receipt = await fin(1n);
    expect(events(receipt, 'EpochFinalized')).toEqual([{ epoch: 1n, payoutRoot: p.root }]);
    expect(await read<Hex>(c, 'claimRoot')).toBe(p.root);
    // Already final: not again.
    await expectRevert(fin(1n), 'NotFinal', [1n, finalAt, false]);
  });
});

describe('RewardDistributor: claim', () => {
  it('pays the finalized amount to the account, whoever sends the claim (Claimed)', async () => {
    const c = chain();
    const { bob, alice } = cast(c);
    const p = payouts([
      [A, 3n * OPEN],
      [alice.address, 2n * OPEN],
      [B, 1n],
    ]);
    await postFinal(c, 1n, p);
    const bobBefore = await balanceOf(c, bob.address);
    const receipt = await claim(c, bob, A, p);
    expect(events(receipt, 'Claimed')).toEqual([{ account: A, epoch: 1n, amount: 3n * OPEN, cumulative: 3n * OPEN }]);
    expect(await balanceOf(c, A)).toBe(3n * OPEN);
    expect(await balanceOf(c, bob.address)).toBe(bobBefore);
    expect(await claimedOf(c, A)).toBe(3n * OPEN);
    const aliceBefore = await balanceOf(c, alice.address);
    await claim(c, alice, alice.address, p);
    expect(await balanceOf(c, alice.address)).toBe(aliceBefore + 2n * OPEN);
    expect(await balanceOf(c, distributor(c).address)).toBe(FEES - 5n * OPEN);
  });

  it('refuses a bad proof: wrong amount, wrong account, a proof from another tree, no final epoch (InvalidProof)', async () => {
    const c = chain();
    const { bob } = cast(c);
    const p = payouts([
      [A, 10n],
      [B, 20n],
      [C, 30n],
    ]);
    await expectRevert(claim(c, bob, A, p), 'InvalidProof', [A, 10n]);
    await postFinal(c, 1n, p);
    await expectRevert(claim(c, bob, A, p, 11n), 'InvalidProof', [A, 11n]);
    await expectRevert(claim(c, bob, A, p, 9n), 'InvalidProof', [A, 9n]);
    const { proof } = p.of(A);
    await expectRevert(
      send(c, bob, { ...distributor(c), functionName: 'claim', args: [B, 10n, proof] }),
      'InvalidProof',
      [B, 10n],
    );
    await expectRevert(send(c, bob, { ...distributor(c), functionName: 'claim', args: [A, 10n, []] }), 'InvalidProof', [
      A,
      10n,
    ]);
    const other = payouts([
      [A, 10n],
      [B, 21n],
    ]);
    await expectRevert(claim(c, bob, A, other), 'InvalidProof', [A, 10n]);
    expect(await claimedOf(c, A)).toBe(0n);
  });

  it('refuses a second claim (NothingToClaim), alone or in a batch', async () => {
    const c = chain();
    const { bob } = cast(c);
    const p = payouts([
      [A, 10n],
      [B, 20n],
    ]);
    await postFinal(c, 1n, p);
    await claim(c, bob, A, p);
    const err = await expectRevert(claim(c, bob, A, p), 'NothingToClaim', [A, 10n]);
    expect(err.message).toBe(`RewardDistributor.claim reverted with NothingToClaim("${A}", "10")`);
    // A batch with a repeated account reverts as a whole.
    await expectRevert(claimMany(c, bob, [B, B], p), 'NothingToClaim', [B, 20n]);
    expect(await claimedOf(c, B)).toBe(0n);
    await expectRevert(claimMany(c, bob, [B, A], p), 'NothingToClaim', [A, 10n]);
    expect(await balanceOf(c, A)).toBe(10n);
    expect(await balanceOf(c, B)).toBe(0n);
  });

  it('claimMany pays several accounts and refuses arrays of different lengths (LengthMismatch)', async () => {
    const c = chain();
    const { bob } = cast(c);
    const p = payouts([
      [A, 10n],
      [B, 20n],
      [C, 30n],
    ]);
    await postFinal(c, 1n, p);
    const cm = (accounts: Address[], amounts: bigint[], proofs: Hex[][]) =>
      send(c, bob, { ...distributor(c), functionName: 'claimMany', args: [accounts, amounts, proofs] });
    const { proof: pa } = p.of(A);
    const { proof: pb } = p.of(B);
    await expectRevert(cm([A, B], [10n], [pa, pb]), 'LengthMismatch', []);
    await expectRevert(cm([A], [10n, 20n], [pa]), 'LengthMismatch', []);
    await expectRevert(cm([A, B], [10n, 20n], [pa]), 'LengthMismatch', []);
    await expectRevert(cm([A], [10n], [pa, pb]), 'LengthMismatch', []);
    // An empty batch is a no-op.
    const empty = await cm([], [], []);
    expect(events(empty, 'Claimed')).toEqual([]);
    const receipt = await claimMany(c, bob, [A, B, C], p);
    expect(events(receipt, 'Claimed')).toEqual([
      { account: A, epoch: 1n, amount: 10n, cumulative: 10n },
      { account: B, epoch: 1n, amount: 20n, cumulative: 20n },
      { account: C, epoch: 1n, amount: 30n, cumulative: 30n },
    ]);
    expect([await balanceOf(c, A), await balanceOf(c, B), await balanceOf(c, C)]).toEqual([10n, 20n, 30n]);
  });

  it('claims only against the finalized root; cumulative amounts pay only the difference', async () => {
    const c = chain();
    const { bob } = cast(c);
    const p1 = payouts([
      [A, 100n],
      [B, 50n],
    ]);
    const p2 = payouts([
      [A, 160n],
      [B, 50n],
      [C, 40n],
    ]);
    const p3 = payouts([
      [A, 200n],
      [B, 90n],
      [C, 40n],
    ]);
    await postFinal(c, 1n, p1);
    await claim(c, bob, A, p1);
    const { finalAt: final2 } = await post(c, 2n, p2);
    // Epoch 2 is not final: its amounts are not claimable, the epoch-1 root still is.
    await expectRevert(claim(c, bob, A, p2), 'InvalidProof', [A, 160n]);
    await expectRevert(claim(c, bob, C, p2), 'InvalidProof', [C, 40n]);
    await claim(c, bob, B, p1);
    expect(await read<Hex>(c, 'claimRoot')).toBe(p1.root);
    await warpTo(c, final2);
    // Its window has passed, but claims switch to its root only once it is finalized (explicitly or by the next post).
    await expectRevert(claim(c, bob, A, p2), 'InvalidProof', [A, 160n]);
    await post(c, 3n, p3);
    expect(await read<Hex>(c, 'claimRoot')).toBe(p2.root);
    const receipt = await claim(c, bob, A, p2);
    expect(events(receipt, 'Claimed')).toEqual([{ account: A, epoch: 2n, amount: 60n, cumulative: 160n }]);
    // B's cumulative did not grow: nothing new.
    await expectRevert(claim(c, bob, B, p2), 'NothingToClaim', [B, 50n]);
    // The old root's proofs no longer verify.
    await expectRevert(claim(c, bob, A, p1), 'InvalidProof', [A, 100n]);
    await claim(c, bob, C, p2);
    expect([await balanceOf(c, A), await balanceOf(c, B), await balanceOf(c, C)]).toEqual([160n, 50n, 40n]);
    expect(await balanceOf(c, distributor(c).address)).toBe(FEES - 250n);
  });

  it('skipping epochs loses nothing: one claim under a later root pays everything owed', async () => {
    const c = chain();
    const { bob } = cast(c);
    await postFinal(c, 1n, payouts([[A, 10n]]));
    await postFinal(c, 2n, payouts([[A, 30n]]));
    const p3 = payouts([
      [A, 70n],
      [B, 5n],
    ]);
    await postFinal(c, 3n, p3);
    const receipt = await claim(c, bob, A, p3);
    expect(events(receipt, 'Claimed')).toEqual([{ account: A, epoch: 3n, amount: 70n, cumulative: 70n }]);
  });
});

describe('RewardDistributor: challenge', () => {
  it('pulls the bond from a staker in the window and marks the epoch (EpochChallenged)', async () => {
    const c = chain();
    const { challenger } = cast(c);
    const { finalAt } = await post(c, 1n, payouts([[A, 1n]]));
    await warpTo(c, finalAt - 1n);
    const before = await balanceOf(c, challenger.address);
    const receipt = await challenge(c, challenger, 1n);
    expect(events(receipt, 'EpochChallenged')).toEqual([{ epoch: 1n, challenger: challenger.address, bond: BOND }]);
    expect(await balanceOf(c, challenger.address)).toBe(before - BOND);
    expect(await balanceOf(c, distributor(c).address)).toBe(FEES + BOND);
    expect(await getEpoch(c, 1n)).toMatchObject({ challenged: true, challenger: challenger.address, bond: BOND });
  });

  it('lets any role of staker challenge; refuses non-stakers (NotStaker)', async () => {
    const c = chain();
    const { bob, node, attestor } = cast(c);
    await post(c, 1n, payouts([[A, 1n]]));
    await send(c, bob, { ...c.token, functionName: 'approve', args: [distributor(c).address, maxUint256] });
    const err = await expectRevert(challenge(c, bob, 1n), 'NotStaker', [bob.address]);
    expect(err.message).toBe(`RewardDistributor.challenge reverted with NotStaker("${bob.address}")`);
    // A serving node (with OPEN for the bond) may challenge; so may a validator.
    await stake(c, node, servingNode, 1_000n * OPEN);
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [node.address, BOND] });
    await send(c, node, { ...c.token, functionName: 'approve', args: [distributor(c).address, maxUint256] });
    await challenge(c, node, 1n);
    expect((await getEpoch(c, 1n)).challenger).toBe(node.address);
    // One challenge per epoch: a validator coming second is refused.
    await expectRevert(challenge(c, attestor, 1n), 'AlreadyChallenged', [1n]);
  });

  it('needs the bond: no allowance → the transfer refuses', async () => {
    const c = chain();
    const { attestor } = cast(c);
    await post(c, 1n, payouts([[A, 1n]]));
    await expectRevert(challenge(c, attestor, 1n), 'ERC20InsufficientAllowance', [distributor(c).address, 0n, BOND]);
  });

  it('takes the bond configured at challenge time, and none when governance sets it to zero', async () => {
    const c = chain();
    const { challenger } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [WINDOW, 0n] });
    await post(c, 1n, payouts([[A, 1n]]));
    const before = await balanceOf(c, challenger.address);
    const receipt = await challenge(c, challenger, 1n);
    expect(events(receipt, 'EpochChallenged')).toEqual([{ epoch: 1n, challenger: challenger.address, bond: 0n }]);
    expect(await balanceOf(c, challenger.address)).toBe(before);
    // Rejected with no bond: nothing moves, and the epoch is final.
    await resolve(c, timelock, 1n, false, noCorrection, 0n);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(1n);
  });

  it('refuses unknown epochs, a second challenge, and epochs not challengeable', async () => {
    const c = chain();
    const { challenger, attestor } = cast(c);
    await expectRevert(challenge(c, challenger, 0n), 'UnknownEpoch', [0n]);
    await expectRevert(challenge(c, challenger, 1n), 'UnknownEpoch', [1n]);
    const { finalAt } = await post(c, 1n, payouts([[A, 1n]]));
    await expectRevert(challenge(c, challenger, 2n), 'UnknownEpoch', [2n]);
    // After the window (at finalAt exactly).
    await warpTo(c, finalAt);
    await expectRevert(challenge(c, challenger, 1n), 'NotChallengeable', [1n]);
    // Not the newest: epoch 2 exists.
    const { finalAt: final2 } = await post(c, 2n, payouts([[A, 2n]]));
    await expectRevert(challenge(c, challenger, 1n), 'NotChallengeable', [1n]);
    await challenge(c, challenger, 2n);
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [attestor.address, BOND] });
    await send(c, attestor, { ...c.token, functionName: 'approve', args: [distributor(c).address, maxUint256] });
    await expectRevert(challenge(c, attestor, 2n), 'AlreadyChallenged', [2n]);
    // Resolved (final): not again.
    const timelock = await c.impersonate(c.timelock.address);
    await resolve(c, timelock, 2n, false, noCorrection, 0n);
    expect(await now(c)).toBeLessThan(final2);
    await expectRevert(challenge(c, challenger, 2n), 'NotChallengeable', [2n]);
  });

  it('refuses to challenge an epoch finalized explicitly', async () => {
    const c = chain();
    const { challenger } = cast(c);
    await postFinal(c, 1n, payouts([[A, 1n]]));
    await expectRevert(challenge(c, challenger, 1n), 'NotChallengeable', [1n]);
  });
});

describe('RewardDistributor: resolveChallenge', () => {
  it('is refused to anyone but the resolver (the timelock)', async () => {
    const c = chain();
    const { challenger, attestor } = cast(c);
    await post(c, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, 1n);
    for (const who of [c.deployer, attestor, challenger]) {
      await expectRevert(resolve(c, who, 1n, true, noCorrection, 0n), 'AccessControlUnauthorizedAccount', [
        who.address,
        roleIds.RESOLVER,
      ]);
    }
    const governor = await c.impersonate(c.governor.address);
    await expectRevert(resolve(c, governor, 1n, false, noCorrection, 0n), 'AccessControlUnauthorizedAccount', [
      governor,
      roleIds.RESOLVER,
    ]);
  });

  it('refuses unknown and unchallenged epochs (NotChallenged), and resolving twice', async () => {
    const c = chain();
    const { challenger } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await expectRevert(resolve(c, timelock, 1n, false, noCorrection, 0n), 'UnknownEpoch', [1n]);
    await post(c, 1n, payouts([[A, 1n]]));
    await expectRevert(resolve(c, timelock, 0n, false, noCorrection, 0n), 'UnknownEpoch', [0n]);
    await expectRevert(resolve(c, timelock, 1n, false, noCorrection, 0n), 'NotChallenged', [1n]);
    await challenge(c, challenger, 1n);
    await resolve(c, timelock, 1n, false, noCorrection, 0n);
    await expectRevert(resolve(c, timelock, 1n, true, noCorrection, 0n), 'NotChallenged', [1n]);
  });

  it('upheld: replaces the root, slashes the attestor to the treasury, returns the bond, makes it claimable', async () => {
    const c = chain();
    const { challenger, attestor, bob } = cast(c);
    const wrong = payouts([
      [attestor.address, 900n],
      [A, 100n],
    ]);
    const right = payouts([
      [A, 600n],
      [B, 400n],
    ]);
    await postFinal(c, 1n, payouts([[A, 50n]]));
    const { finalAt } = await post(c, 2n, wrong);
    await challenge(c, challenger, 2n);
    const timelock = await c.impersonate(c.timelock.address);
    const [treasuryBefore, challengerBefore] = [
      await balanceOf(c, c.timelock.address),
      await balanceOf(c, challenger.address),
    ];
    const fix = correction(right, 2n);
    const receipt = await resolve(c, timelock, 2n, true, fix, 2_500n * OPEN);
    const t = (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
    expect(events(receipt, 'ChallengeUpheld')).toEqual([
      { epoch: 2n, oldRoot: wrong.root, newRoot: right.root, slashed: 2_500n * OPEN },
    ]);
    expect(events(receipt, 'EpochFinalized')).toEqual([{ epoch: 2n, payoutRoot: right.root }]);
    const reasonHash = keccak256(
      encodeAbiParameters(
        [{ type: 'string' }, { type: 'uint256' }, { type: 'bytes32' }],
        ['tributary.epoch', 2n, wrong.root],
      ),
    );
    const [slashed] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(slashed?.args).toEqual({
      staker: attestor.address,
      role: validator,
      amount: 2_500n * OPEN,
      fromActive: 2_500n * OPEN,
      fromUnbonding: 0n,
      reasonHash,
      slasher: distributor(c).address,
    });
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'stakeOf',
        args: [attestor.address, validator],
      }),
    ).toBe(ATTESTOR_STAKE - 2_500n * OPEN);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + 2_500n * OPEN);
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore + BOND);
    expect(await balanceOf(c, distributor(c).address)).toBe(FEES);
    expect(await getEpoch(c, 2n)).toMatchObject({
      payoutRoot: right.root,
      cumulativeTotal: right.total,
      receiptsRoot: fix.receiptsRoot,
      receiptsCID: fix.receiptsCID,
      challenged: false,
      bond: 0n,
      finalAt: t,
      attestor: attestor.address,
    });
    expect(finalAt).toBeGreaterThan(t);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(2n);
    expect(await read<Hex>(c, 'claimRoot')).toBe(right.root);
    // Claimable at once with the corrected root; the wrong root's proofs fail.
    await expectRevert(claim(c, bob, attestor.address, wrong), 'InvalidProof', [attestor.address, 900n]);
    await claim(c, bob, A, right);
    await claim(c, bob, B, right);
    expect([await balanceOf(c, A), await balanceOf(c, B)]).toEqual([600n, 400n]);
    // The next epoch can follow immediately.
    await post(c, 3n, payouts([[A, 1_000n]]));
  });

  it('upheld: slashes at most the slashable stake, and nothing when asked for zero', async () => {
    const c = chain();
    const { challenger, attestor } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    // Part of the stake is unbonding: still slashable.
    await send(c, attestor, { ...c.staking, functionName: 'requestUnstake', args: [validator, 5_000n * OPEN] });
    await post(c, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, 1n);
    const receipt = await resolve(c, timelock, 1n, true, correction(payouts([[A, 2n]]), 1n), maxUint256);
    expect(events(receipt, 'ChallengeUpheld')[0]?.slashed).toBe(ATTESTOR_STAKE);
    const [slashed] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(slashed?.args).toMatchObject({
      amount: ATTESTOR_STAKE,
      fromActive: 15_000n * OPEN,
      fromUnbonding: 5_000n * OPEN,
    });
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'slashableOf',
        args: [attestor.address, validator],
      }),
    ).toBe(0n);

    // A fully slashed attestor cannot post; another validator posts the next epoch and is let off with 0.
    const { alice } = cast(c);
    await expectRevert(postEpoch(c, attestor, 2n, zeroHash, 2n), 'NotAttestor', [attestor.address]);
    await stake(c, alice, validator, 10_000n * OPEN);
    await postEpoch(c, alice, 2n, payouts([[A, 3n]]).root, 3n);
    await challenge(c, challenger, 2n);
    const none = await resolve(c, timelock, 2n, true, correction(payouts([[A, 4n]]), 2n), 0n);
    expect(events(none, 'ChallengeUpheld')[0]?.slashed).toBe(0n);
    expect(parseEventLogs({ abi: StakingArtifact.abi, logs: none.logs, eventName: 'Slashed' })).toHaveLength(0);
    expect(
      await c.clients.public.readContract({ ...c.staking, functionName: 'stakeOf', args: [alice.address, validator] }),
    ).toBe(10_000n * OPEN);
  });

  it('upheld: the correction is checked too (TotalDecreased, ExceedsFees) and the challenge stays open', async () => {
    const c = chain();
    const { challenger } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await postFinal(c, 1n, payouts([[A, 500n]]));
    await post(c, 2n, payouts([[A, 700n]]));
    await challenge(c, challenger, 2n);
    await expectRevert(resolve(c, timelock, 2n, true, correction(payouts([[A, 499n]]), 2n), OPEN), 'TotalDecreased', [
      500n,
      499n,
    ]);
    await expectRevert(resolve(c, timelock, 2n, true, correction(payouts([[A, FEES + 1n]]), 2n), OPEN), 'ExceedsFees', [
      FEES + 1n,
      FEES,
    ]);
    expect(await getEpoch(c, 2n)).toMatchObject({ challenged: true, bond: BOND });
    // Equal to the previous total and exactly the fees are both acceptable corrections.
    await resolve(c, timelock, 2n, true, correction(payouts([[A, 500n]]), 2n), OPEN);
    expect(await read<bigint>(c, 'finalizedEpoch')).toBe(2n);
  });

  it('rejected: the bond goes to the treasury, the root stays and is final and claimable at once', async () => {
    const c = chain();
    const { challenger, attestor, bob } = cast(c);
    const p = payouts([
      [A, 70n],
      [B, 30n],
    ]);
    const { finalAt } = await post(c, 1n, p);
    await challenge(c, challenger, 1n);
    const timelock = await c.impersonate(c.timelock.address);
    const [treasuryBefore, challengerBefore] = [
      await balanceOf(c, c.timelock.address),
      await balanceOf(c, challenger.address),
    ];
    const receipt = await resolve(c, timelock, 1n, false, correction(payouts([[A, 1n]]), 1n), OPEN);
    expect(events(receipt, 'ChallengeRejected')).toEqual([{ epoch: 1n, bondForfeited: BOND }]);
    expect(events(receipt, 'ChallengeUpheld')).toEqual([]);
    expect(events(receipt, 'EpochFinalized')).toEqual([{ epoch: 1n, payoutRoot: p.root }]);
    expect(parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' })).toHaveLength(0);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + BOND);
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore);
    expect(await balanceOf(c, distributor(c).address)).toBe(FEES);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'stakeOf',
        args: [attestor.address, validator],
      }),
    ).toBe(ATTESTOR_STAKE);
    expect(await getEpoch(c, 1n)).toMatchObject({
      payoutRoot: p.root,
      cumulativeTotal: 100n,
      challenged: false,
      bond: 0n,
    });
    expect(await now(c)).toBeLessThan(finalAt);
    await claimMany(c, bob, [A, B], p);
    expect([await balanceOf(c, A), await balanceOf(c, B)]).toEqual([70n, 30n]);
  });

  it('rejected: the bond goes to the treasury governance set after the challenge', async () => {
    const c = chain();
    const { challenger, bob } = cast(c);
    await post(c, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, 1n);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setPlatformTreasury', args: [bob.address] });
    const before = await balanceOf(c, bob.address);
    await resolve(c, timelock, 1n, false, noCorrection, 0n);
    expect(await balanceOf(c, bob.address)).toBe(before + BOND);
  });

  it('upheld through a real governance proposal (propose, vote, queue, execute)', async () => {
    const c = chain();
    const { challenger, attestor, bob } = cast(c);
    const wrong = payouts([[attestor.address, 5_000n * OPEN]]);
    const right = payouts([
      [A, 3_000n * OPEN],
      [B, 2_000n * OPEN],
    ]);
    await post(c, 1n, wrong);
    await challenge(c, challenger, 1n);
    const challengerBefore = await balanceOf(c, challenger.address);
    const { receipts } = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [
        {
          target: distributor(c).address,
          data: encodeCall(RewardDistributorArtifact.abi, 'resolveChallenge', [
            1n,
            true,
            correction(right, 1n),
            1_000n * OPEN,
          ]),
        },
      ],
      description: 'Epoch 1 paid its attestor instead of the contributors: replace the root and slash',
    });
    expect(events(receipts.execute, 'ChallengeUpheld')).toEqual([
      { epoch: 1n, oldRoot: wrong.root, newRoot: right.root, slashed: 1_000n * OPEN },
    ]);
    const [slashed] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipts.execute.logs, eventName: 'Slashed' });
    expect(slashed?.args).toMatchObject({
      staker: attestor.address,
      amount: 1_000n * OPEN,
      slasher: distributor(c).address,
    });
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore + BOND);
    expect(await read<Hex>(c, 'claimRoot')).toBe(right.root);
    await claimMany(c, bob, [A, B], right);
    expect(await balanceOf(c, A)).toBe(3_000n * OPEN);
  });
});

describe('RewardDistributor: gas', () => {
  /**
   * Gas of posting epoch `epoch` with `n` payees (same CID and receipts root, similar totals), from a snapshot
   * that is reverted afterwards. From epoch 2 on the post also finalizes the previous epoch; from epoch 3 on it
   * overwrites the claim root instead of filling an empty slot (the steady state).
   */
  const postGas = async (c: TestChain, n: number, epoch: bigint): Promise<bigint> => {
    const entries = Array.from({ length: n }, (_, i) => [payee(`gas ${n} ${i}`), 1_000n + BigInt(i)] as const);
    const p = payouts(entries);
    const test = c.clients.test();
    const snapshot = await test.snapshot();
    try {
      for (let e = 1n; e < epoch; e++) {
        const { finalAt } = await post(c, e, payouts([[A, e]]));
        await warpTo(c, finalAt);
      }
      const { receipt } = await post(c, epoch, p);
      return receipt.gasUsed;
    } finally {
      await test.revert({ id: snapshot });
    }
  };

  it('costs the same to post an epoch for 2 or 200 payees, and little to claim', async () => {
    const c = chain();
    const { bob } = cast(c);
    const within = (a: bigint, b: bigint, gas: bigint) => a - b < gas && b - a < gas;
    const [first2, first200] = [await postGas(c, 2, 1n), await postGas(c, 200, 1n)];
    const [next2, next200] = [await postGas(c, 2, 3n), await postGas(c, 200, 3n)];
    // Only calldata (the root's and total's bytes) differs.
    expect(within(first2, first200, 300n), `first postEpoch gas 2: ${first2}, 200: ${first200}`).toBe(true);
    expect(within(next2, next200, 300n), `next postEpoch gas 2: ${next2}, 200: ${next200}`).toBe(true);
    // Cold storage for the epoch record (root, receipts root, totals, attestor, CID) dominates.
    expect(first2).toBeLessThan(250_000n);
    expect(next2).toBeLessThan(250_000n);

    // Claims under a 200-payee root (proofs of depth 7-8).
    const entries = Array.from({ length: 200 }, (_, i) => [payee(`claim ${i}`), 10n * OPEN + BigInt(i)] as const);
    const p = payouts(entries);
    await postFinal(c, 1n, p);
    const [fresh, holder] = [entries[0]?.[0], entries[1]?.[0]] as [Address, Address];
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [holder, OPEN] });
    const claimFresh = (await claim(c, bob, fresh, p)).gasUsed;
    const claimHolder = (await claim(c, bob, holder, p)).gasUsed;
    const ten = entries.slice(10, 20).map(([a]) => a);
    const claimMany10 = (await claimMany(c, bob, ten, p)).gasUsed;
    console.log(
      JSON.stringify({
        suite: 'RewardDistributor.gas',
        postEpoch: {
          first: { payees2: Number(first2), payees200: Number(first200) },
          steadyState: { payees2: Number(next2), payees200: Number(next200) },
        },
        claim: { freshAccount: Number(claimFresh), accountHoldingOpen: Number(claimHolder) },
        claimMany10: Number(claimMany10),
        claimMany10PerAccount: Number(claimMany10 / 10n),
      }),
    );
    expect(claimHolder).toBeLessThan(claimFresh);
    expect(claimMany10).toBeLessThan(10n * claimFresh);
  });
});
