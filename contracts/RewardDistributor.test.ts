/**
 * RewardDistributor, one sequence of epochs per serving node: fees a node redeems on the escrow are booked to it;
 * the node (holding an eligible validator stake) posts its own numbered epochs, each a Merkle root of cumulative
 * payouts of its fees, and everything its root could still pay out (its declared total less what the node's payees
 * already claimed) is locked from the node's validator stake until the epoch is final or void. After the challenge window anyone claims for anyone with a proof, never above the
 * final root's declared total. A staker challenges with a bond; the timelock (governance) upholds (root replaced,
 * at least the locked stake slashed, bond back) or rejects (bond to the treasury, window reopened) before the
 * resolution deadline, after which the epoch is void. Objective fraud proofs (a decreased leaf, a leaf above the
 * declared total) void and slash at once. Also measures the gas of posting (constant in the number of payees) and
 * of claiming.
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
  type TransactionReceipt,
  zeroAddress,
  zeroHash,
} from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deployContract,
  encodeCall,
  OPEN,
  passProposal,
  RewardDistributorArtifact,
  roleIds,
  stakingRoles,
} from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';
import {
  addFees,
  BOND,
  balanceOf,
  bondsHeld,
  CID,
  cast,
  challenge,
  claim,
  claimedOf,
  config,
  correction,
  DAY,
  distributor,
  distributorEvents,
  escrow,
  finalize,
  fundBonds,
  getEpoch,
  leafOf,
  lockedOf,
  noCorrection,
  nodeState,
  type Payouts,
  payee,
  payouts,
  post,
  postEpoch,
  receiptsRoot,
  resolve,
  Status,
  stake,
  stakeOf,
  stakingEvents,
  VoidReason,
} from '../test/fixtures/settlement.js';

const chain = useTestChain();

const WINDOW = DAY;
const RESOLUTION = 21n * DAY;
const NODE_STAKE = 20_000n * OPEN;
/** Fees each node has redeemed into the distributor when each test starts. */
const FEES = 10_000n * OPEN;
const { validator, servingNode, agent } = stakingRoles;

// ------------------------------------------------------------------------------------------------- helpers

const read = <T>(c: TestChain, functionName: string, args: readonly unknown[] = []) =>
  c.clients.public.readContract({ ...distributor(c), functionName, args } as never) as Promise<T>;
const blockTime = async (c: TestChain, receipt?: TransactionReceipt) =>
  (await c.clients.public.getBlock(receipt ? { blockNumber: receipt.blockNumber } : {})).timestamp;

const CHANNEL_DEPOSIT = 1_000_000n * OPEN;

/** Once per file (the per-test snapshots start from here): two validator nodes with FEES each, a challenger. */
beforeAll(async () => {
  const c = chain();
  const { payer, node, node2, challenger } = cast(c);
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [payer.address, 2n * CHANNEL_DEPOSIT] });
  await send(c, payer, { ...c.token, functionName: 'approve', args: [escrow(c).address, maxUint256] });
  for (const n of [node, node2])
    await send(c, payer, { ...escrow(c), functionName: 'openChannel', args: [n.address, CHANNEL_DEPOSIT, 365n * DAY] });
  await addFees(c, node, FEES);
  await addFees(c, node2, FEES);
  await stake(c, node, validator, NODE_STAKE);
  await stake(c, node2, validator, NODE_STAKE);
  await stake(c, challenger, agent, 100n * OPEN);
  await fundBonds(c, challenger);
});

/** Posts `p` as `node`'s `epoch`, lets its window pass and finalizes it. */
async function postFinal(c: TestChain, node: HDAccount, epoch: bigint, p: Payouts): Promise<void> {
  const { finalAt } = await post(c, node, epoch, p);
  await warpTo(c, finalAt);
  await finalize(c, node.address, epoch);
}

const request = (node: Address, account: Address, p: Payouts) => {
  const { amount, proof } = p.of(account);
  return { node, account, cumulativeAmount: amount, proof };
};
const claimMany = (c: TestChain, by: Account, requests: ReturnType<typeof request>[]) =>
  send(c, by, { ...distributor(c), functionName: 'claimMany', args: [requests] });
const resolveExpired = (c: TestChain, who: Account, node: Address, epoch: bigint) =>
  send(c, who, { ...distributor(c), functionName: 'resolveExpired', args: [node, epoch] });

const slashReason = (node: Address, epoch: bigint) =>
  keccak256(
    encodeAbiParameters(
      [{ type: 'string' }, { type: 'address' }, { type: 'uint256' }],
      ['tributary.epoch', node, epoch],
    ),
  );

const A = payee('A');
const B = payee('B');
const C = payee('C');

// --------------------------------------------------------------------------------------------------- tests

describe('RewardDistributor: deployment', () => {
  it('is wired: escrow records fees, the timelock resolves and administers, it may lock and slash on Staking', async () => {
    const c = chain();
    const d = distributor(c);
    const { node, node2 } = cast(c);
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
    for (const role of [roleIds.SLASHER, roleIds.LOCKER])
      expect(
        await c.clients.public.readContract({ ...c.staking, functionName: 'hasRole', args: [role, d.address] }),
      ).toBe(true);
    expect(await read<bigint>(c, 'totalFeesReceived')).toBe(2n * FEES);
    expect(await bondsHeld(c)).toBe(0n);
    expect(await balanceOf(c, d.address)).toBe(2n * FEES);
    for (const n of [node.address, node2.address])
      expect(await nodeState(c, n)).toEqual({
        epochCount: 0n,
        finalizedEpoch: 0n,
        claimRoot: zeroHash,
        finalTotal: 0n,
        claimedTotal: 0n,
        feesReceived: FEES,
      });
    await expectRevert(getEpoch(c, node.address, 1n), 'UnknownEpoch', [node.address, 1n]);
    await expectRevert(getEpoch(c, node.address, 0n), 'UnknownEpoch', [node.address, 0n]);
  });

  it('payoutLeaf is the standard leaf of (address, uint256) that src/chain/merkle.ts builds', async () => {
    const c = chain();
    for (const [a, amount] of [
      [A, 1n],
      [B, 123n * OPEN],
      [zeroAddress, maxUint256],
    ] as const)
      expect(await read<Hex>(c, 'payoutLeaf', [a, amount])).toBe(leafOf(a, amount));
  });

  it('refuses zero addresses in the constructor (ZeroAddress)', async () => {
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
    expect((await nodeState(c, node.address)).feesReceived).toBe(FEES);
  });

  it('books redeemed fees to the redeeming node only (FeesRecorded), and counts a granted fee source', async () => {
    const c = chain();
    const { bob, node, node2 } = cast(c);
    const receipt = await addFees(c, node2, 7n);
    expect(distributorEvents(receipt, 'FeesRecorded')).toEqual([
      { node: node2.address, channelId: 2n, amount: 7n, nodeFeesReceived: FEES + 7n },
    ]);
    expect((await nodeState(c, node2.address)).feesReceived).toBe(FEES + 7n);
    expect((await nodeState(c, node.address)).feesReceived).toBe(FEES);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...distributor(c), functionName: 'grantRole', args: [roleIds.FEE_SOURCE, bob.address] });
    const direct = await send(c, bob, { ...distributor(c), functionName: 'recordFees', args: [node.address, 9n, 5n] });
    expect(distributorEvents(direct, 'FeesRecorded')).toEqual([
      { node: node.address, channelId: 9n, amount: 5n, nodeFeesReceived: FEES + 5n },
    ]);
    expect(await read<bigint>(c, 'totalFeesReceived')).toBe(2n * FEES + 12n);
  });
});

describe('RewardDistributor: postEpoch', () => {
  it("records the epoch, emits EpochPosted with finalAt = now + window, and locks what the root could pay out of the node's stake", async () => {
    const c = chain();
    const { node } = cast(c);
    const p = payouts([
      [A, 100n],
      [B, 250n],
    ]);
    const { receipt, finalAt, locked } = await post(c, node, 1n, p);
    const t = await blockTime(c, receipt);
    expect(finalAt).toBe(t + WINDOW);
    expect(locked).toBe(350n);
    expect(distributorEvents(receipt, 'EpochPosted')).toEqual([
      {
        node: node.address,
        epoch: 1n,
        payoutRoot: p.root,
        cumulativeTotal: 350n,
        receiptsRoot: receiptsRoot(1n),
        receiptsCID: CID,
        finalAt,
        locked: 350n,
      },
    ]);
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([]);
    expect(stakingEvents(receipt, 'StakeLockChanged')).toEqual([
      { staker: node.address, role: validator, delta: 350n, lockedAfter: 350n, locker: distributor(c).address },
    ]);
    expect(await lockedOf(c, node.address)).toBe(350n);
    expect(await getEpoch(c, node.address, 1n)).toEqual({
      payoutRoot: p.root,
      receiptsRoot: receiptsRoot(1n),
      cumulativeTotal: 350n,
      locked: 350n,
      postedAt: t,
      finalAt,
      resolveBy: 0n,
      status: Status.Pending,
      challenger: zeroAddress,
      bond: 0n,
      receiptsCID: CID,
    });
    expect(await nodeState(c, node.address)).toMatchObject({ epochCount: 1n, finalizedEpoch: 0n, claimRoot: zeroHash });
  });

  it('refuses an unstaked account, serving-node and agent stakes, and a validator below a raised minimum (NotAttestor)', async () => {
    const c = chain();
    const { bob, alice, challenger, node } = cast(c);
    const p = payouts([[A, 1n]]);
    const err = await expectRevert(postEpoch(c, bob, 1n, p.root, p.total), 'NotAttestor', [bob.address]);
    expect(err.message).toBe(`RewardDistributor.postEpoch reverted with NotAttestor("${bob.address}")`);
    await stake(c, alice, servingNode, 50_000n * OPEN);
    await expectRevert(postEpoch(c, alice, 1n, p.root, p.total), 'NotAttestor', [alice.address]);
    await expectRevert(postEpoch(c, challenger, 1n, p.root, p.total), 'NotAttestor', [challenger.address]);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...c.staking, functionName: 'setMinimumStake', args: [validator, NODE_STAKE + 1n] });
    await expectRevert(postEpoch(c, node, 1n, p.root, p.total), 'NotAttestor', [node.address]);
  });

  it("refuses epochs out of the node's own order (EpochOutOfOrder); each node numbers its own", async () => {
    const c = chain();
    const { node, node2 } = cast(c);
    const p = payouts([[A, 1n]]);
    await expectRevert(postEpoch(c, node, 0n, p.root, p.total), 'EpochOutOfOrder', [node.address, 1n, 0n]);
    await expectRevert(postEpoch(c, node, 2n, p.root, p.total), 'EpochOutOfOrder', [node.address, 1n, 2n]);
    const { finalAt } = await post(c, node, 1n, p);
    await warpTo(c, finalAt);
    await expectRevert(postEpoch(c, node, 1n, p.root, p.total), 'EpochOutOfOrder', [node.address, 2n, 1n]);
    await expectRevert(postEpoch(c, node, 3n, p.root, p.total), 'EpochOutOfOrder', [node.address, 2n, 3n]);
    // node2's sequence is its own: its first epoch is 1 whatever node has posted.
    await expectRevert(postEpoch(c, node2, 2n, p.root, p.total), 'EpochOutOfOrder', [node2.address, 1n, 2n]);
    await post(c, node2, 1n, p);
    expect((await nodeState(c, node2.address)).epochCount).toBe(1n);
  });

  it("refuses a total above the node's own fees (ExceedsFees), though others' fees would cover it", async () => {
    const c = chain();
    const { node } = cast(c);
    const p = payouts([[A, FEES + 1n]]);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES);
    await expectRevert(postEpoch(c, node, 1n, p.root, p.total), 'ExceedsFees', [node.address, FEES + 1n, FEES]);
    await addFees(c, node, 1n);
    await post(c, node, 1n, p);
  });

  it("refuses a total below the node's last final total (TotalDecreased); a void epoch's total does not count", async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    await postFinal(c, node, 1n, payouts([[A, 500n]]));
    const lower = payouts([[A, 499n]]);
    await expectRevert(postEpoch(c, node, 2n, lower.root, lower.total), 'TotalDecreased', [500n, 499n]);
    // Epoch 2 at 800 is challenged and voided by the deadline: the baseline stays epoch 1's 500.
    await post(c, node, 2n, payouts([[A, 800n]]));
    await challenge(c, challenger, node.address, 2n);
    await warpTo(c, (await getEpoch(c, node.address, 2n)).resolveBy + 1n);
    await resolveExpired(c, challenger, node.address, 2n);
    await expectRevert(postEpoch(c, node, 3n, lower.root, lower.total), 'TotalDecreased', [500n, 499n]);
    // The lock is all that epoch 3's root could pay out: nothing was claimed, so its whole total.
    const { locked } = await post(c, node, 3n, payouts([[B, 600n]]));
    expect(locked).toBe(600n);
    expect(await lockedOf(c, node.address)).toBe(600n);
  });

  it("refuses a root that could pay out more than the node's unlocked validator stake (StakeTooLowForEpoch); the lock follows the claimed total", async () => {
    const c = chain();
    const { node, bob } = cast(c);
    await addFees(c, node, 15_000n * OPEN);
    const all = payouts([[A, FEES + 15_000n * OPEN]]);
    await expectRevert(postEpoch(c, node, 1n, all.root, all.total), 'StakeTooLowForEpoch', [
      node.address,
      all.total,
      NODE_STAKE,
    ]);
    // Unbonding stake backs nothing: only the active stake counts.
    await send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [validator, 5_000n * OPEN] });
    const over = payouts([[A, 15_000n * OPEN + 1n]]);
    await expectRevert(postEpoch(c, node, 1n, over.root, over.total), 'StakeTooLowForEpoch', [
      node.address,
      over.total,
      15_000n * OPEN,
    ]);
    const first = payouts([[A, 15_000n * OPEN]]);
    const { locked, finalAt } = await post(c, node, 1n, first);
    expect(locked).toBe(15_000n * OPEN);
    expect(await lockedOf(c, node.address)).toBe(15_000n * OPEN);
    // Once epoch 1 is final its stake is free again, but epoch 2's root could pay out all of its total while
    // nothing is claimed: more than the stake.
    await warpTo(c, finalAt);
    await finalize(c, node.address, 1n);
    expect(await lockedOf(c, node.address)).toBe(0n);
    await expectRevert(postEpoch(c, node, 2n, all.root, all.total), 'StakeTooLowForEpoch', [
      node.address,
      all.total,
      15_000n * OPEN,
    ]);
    // Once A claims its 15,000 under epoch 1's root, epoch 2 locks only what is still unclaimed.
    await claim(c, bob, node.address, A, first);
    const next = await post(c, node, 2n, all);
    expect(next.locked).toBe(all.total - 15_000n * OPEN);
    expect(await lockedOf(c, node.address)).toBe(next.locked);
  });

  it('refuses the next epoch while the previous is in its window or challenged before its deadline (PreviousEpochNotFinal)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const p1 = payouts([[A, 100n]]);
    const p2 = payouts([[A, 200n]]);
    const { finalAt } = await post(c, node, 1n, p1);
    const refused = (status: number) =>
      expectRevert(postEpoch(c, node, 2n, p2.root, p2.total), 'PreviousEpochNotFinal', [
        node.address,
        1n,
        status,
        finalAt,
      ]);
    await refused(Status.Pending);
    await warpTo(c, finalAt - 1n);
    await refused(Status.Pending);
    await challenge(c, challenger, node.address, 1n);
    await warpTo(c, finalAt + 10n * DAY);
    await refused(Status.Challenged);
    const { resolveBy } = await getEpoch(c, node.address, 1n);
    await warpTo(c, resolveBy);
    await refused(Status.Challenged);
    // Nor can the challenged epoch be finalized by time alone.
    await expectRevert(finalize(c, node.address, 1n), 'NotFinal', [node.address, 1n, Status.Challenged, finalAt]);
  });

  it('posting after the window finalizes the previous epoch first and moves the lock (EpochFinalized, EpochPosted)', async () => {
    const c = chain();
    const { node } = cast(c);
    const p1 = payouts([[A, 100n]]);
    const p2 = payouts([
      [A, 150n],
      [B, 50n],
    ]);
    const { finalAt } = await post(c, node, 1n, p1);
    await warpTo(c, finalAt);
    const { receipt, locked } = await post(c, node, 2n, p2);
    // Nothing was claimed under epoch 1: epoch 2's root could pay out its whole total.
    expect(locked).toBe(200n);
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([
      { node: node.address, epoch: 1n, payoutRoot: p1.root, cumulativeTotal: 100n },
    ]);
    const names = parseEventLogs({ abi: RewardDistributorArtifact.abi, logs: receipt.logs }).map((e) => e.eventName);
    expect(names).toEqual(['EpochFinalized', 'EpochPosted']);
    expect(stakingEvents(receipt, 'StakeLockChanged').map((e) => [e.delta, e.lockedAfter])).toEqual([
      [-100n, 0n],
      [200n, 200n],
    ]);
    expect(await nodeState(c, node.address)).toMatchObject({
      epochCount: 2n,
      finalizedEpoch: 1n,
      claimRoot: p1.root,
      finalTotal: 100n,
    });
    expect((await getEpoch(c, node.address, 1n)).status).toBe(Status.Final);
  });

  it('the lock covers unclaimed payouts: claims made before a post shrink it', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p1 = payouts([
      [A, 100n],
      [B, 250n],
    ]);
    const p2 = payouts([
      [A, 100n],
      [B, 250n],
      [C, 50n],
    ]);
    await postFinal(c, node, 1n, p1);
    expect(await nodeState(c, n)).toMatchObject({ finalTotal: 350n, claimedTotal: 0n });
    // A claims its 100 before epoch 2 is posted: epoch 2's root could pay out only 400 − 100.
    await claim(c, bob, n, A, p1);
    const second = await post(c, node, 2n, p2);
    expect(second.locked).toBe(300n);
    expect(distributorEvents(second.receipt, 'EpochPosted')[0]?.locked).toBe(300n);
    expect((await getEpoch(c, n, 2n)).locked).toBe(300n);
    expect(await lockedOf(c, n)).toBe(300n);
    // The lock is fixed when the epoch is posted: B's claim under epoch 1 meanwhile leaves it as it is.
    await claim(c, bob, n, B, p1);
    expect(await nodeState(c, n)).toMatchObject({ finalizedEpoch: 1n, claimedTotal: 350n });
    expect(await lockedOf(c, n)).toBe(300n);
    expect((await getEpoch(c, n, 2n)).locked).toBe(300n);
    // Epoch 3 declares the same total (it adds nothing) yet still locks what its root could pay: C's unclaimed 50.
    await warpTo(c, second.finalAt);
    const third = await post(c, node, 3n, p2);
    expect(third.locked).toBe(50n);
    expect(stakingEvents(third.receipt, 'StakeLockChanged').map((e) => [e.delta, e.lockedAfter])).toEqual([
      [-300n, 0n],
      [50n, 50n],
    ]);
    // Once everything is claimed, a root that adds nothing locks nothing.
    await warpTo(c, third.finalAt);
    await finalize(c, n, 3n);
    await claim(c, bob, n, C, p2);
    expect(await nodeState(c, n)).toMatchObject({ finalTotal: 400n, claimedTotal: 400n });
    const fourth = await post(c, node, 4n, p2);
    expect(fourth.locked).toBe(0n);
    expect(await lockedOf(c, n)).toBe(0n);
  });

  it('posting after an unresolved deadline voids the challenged previous epoch first (EpochVoided, bond back)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const { locked } = await post(c, node, 1n, payouts([[A, 100n]]));
    await challenge(c, challenger, node.address, 1n);
    const { resolveBy } = await getEpoch(c, node.address, 1n);
    await warpTo(c, resolveBy + 1n);
    const before = await balanceOf(c, challenger.address);
    const { receipt } = await post(c, node, 2n, payouts([[A, 100n]]));
    expect(distributorEvents(receipt, 'EpochVoided')).toEqual([
      { node: node.address, epoch: 1n, reason: VoidReason.ResolutionExpired, by: node.address, slashed: 0n },
    ]);
    expect(await balanceOf(c, challenger.address)).toBe(before + BOND);
    expect(await bondsHeld(c)).toBe(0n);
    expect((await getEpoch(c, node.address, 1n)).status).toBe(Status.Void);
    expect(await lockedOf(c, node.address)).toBe(locked);
    expect(await nodeState(c, node.address)).toMatchObject({ epochCount: 2n, finalizedEpoch: 0n, finalTotal: 0n });
  });

  it('an explicitly finalized previous epoch is not finalized twice by the next post', async () => {
    const c = chain();
    const { node } = cast(c);
    await postFinal(c, node, 1n, payouts([[A, 100n]]));
    const { receipt } = await post(c, node, 2n, payouts([[A, 100n]]));
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([]);
    expect((await nodeState(c, node.address)).finalizedEpoch).toBe(1n);
  });

  it('uses the challenge window governance sets for new epochs', async () => {
    const c = chain();
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [3n * DAY, BOND] });
    const { receipt, finalAt } = await post(c, cast(c).node, 1n, payouts([[A, 1n]]));
    expect(finalAt).toBe((await blockTime(c, receipt)) + 3n * DAY);
  });
});

describe('RewardDistributor: finalize', () => {
  it('refuses unknown epochs and epochs in their window; anyone may finalize afterwards, unlocking the stake', async () => {
    const c = chain();
    const { node, node2 } = cast(c);
    await expectRevert(finalize(c, node.address, 0n), 'UnknownEpoch', [node.address, 0n]);
    await expectRevert(finalize(c, node.address, 1n), 'UnknownEpoch', [node.address, 1n]);
    const p = payouts([[A, 1n]]);
    const { finalAt } = await post(c, node, 1n, p);
    await expectRevert(finalize(c, node.address, 2n), 'UnknownEpoch', [node.address, 2n]);
    await expectRevert(finalize(c, node2.address, 1n), 'UnknownEpoch', [node2.address, 1n]);
    await expectRevert(finalize(c, node.address, 1n), 'NotFinal', [node.address, 1n, Status.Pending, finalAt]);
    await warpTo(c, finalAt - 1n);
    await expectRevert(finalize(c, node.address, 1n), 'NotFinal', [node.address, 1n, Status.Pending, finalAt]);
    await warpTo(c, finalAt);
    const receipt = await finalize(c, node.address, 1n);
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([
      { node: node.address, epoch: 1n, payoutRoot: p.root, cumulativeTotal: 1n },
    ]);
    expect(stakingEvents(receipt, 'StakeLockChanged')).toEqual([
      { staker: node.address, role: validator, delta: -1n, lockedAfter: 0n, locker: distributor(c).address },
    ]);
    expect(await nodeState(c, node.address)).toMatchObject({ finalizedEpoch: 1n, claimRoot: p.root, finalTotal: 1n });
    expect(await getEpoch(c, node.address, 1n)).toMatchObject({ status: Status.Final, locked: 0n });
    // Already final: not again.
    await expectRevert(finalize(c, node.address, 1n), 'NotFinal', [node.address, 1n, Status.Final, finalAt]);
  });

  it('refuses void epochs (NotFinal)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const { finalAt } = await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node.address, 1n);
    await warpTo(c, (await getEpoch(c, node.address, 1n)).resolveBy + 1n);
    await resolveExpired(c, challenger, node.address, 1n);
    await expectRevert(finalize(c, node.address, 1n), 'NotFinal', [node.address, 1n, Status.Void, finalAt]);
  });
});

describe('RewardDistributor: claim', () => {
  it('pays the final amount to the account, whoever sends the claim (Claimed)', async () => {
    const c = chain();
    const { node, bob, alice } = cast(c);
    const p = payouts([
      [A, 3n * OPEN],
      [alice.address, 2n * OPEN],
      [B, 1n],
    ]);
    await postFinal(c, node, 1n, p);
    const bobBefore = await balanceOf(c, bob.address);
    const receipt = await claim(c, bob, node.address, A, p);
    expect(distributorEvents(receipt, 'Claimed')).toEqual([
      { node: node.address, account: A, epoch: 1n, amount: 3n * OPEN, cumulative: 3n * OPEN },
    ]);
    expect(await balanceOf(c, A)).toBe(3n * OPEN);
    expect(await balanceOf(c, bob.address)).toBe(bobBefore);
    expect(await claimedOf(c, node.address, A)).toBe(3n * OPEN);
    const aliceBefore = await balanceOf(c, alice.address);
    await claim(c, alice, node.address, alice.address, p);
    expect(await balanceOf(c, alice.address)).toBe(aliceBefore + 2n * OPEN);
    expect((await nodeState(c, node.address)).claimedTotal).toBe(5n * OPEN);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES - 5n * OPEN);
  });

  it("refuses a bad proof: wrong amount or account, another tree, another node's root, no final epoch (InvalidProof)", async () => {
    const c = chain();
    const { node, node2, bob } = cast(c);
    const p = payouts([
      [A, 10n],
      [B, 20n],
      [C, 30n],
    ]);
    await expectRevert(claim(c, bob, node.address, A, p), 'InvalidProof', [A, 10n]);
    await postFinal(c, node, 1n, p);
    await expectRevert(claim(c, bob, node.address, A, p, 11n), 'InvalidProof', [A, 11n]);
    await expectRevert(claim(c, bob, node.address, A, p, 9n), 'InvalidProof', [A, 9n]);
    const { proof } = p.of(A);
    await expectRevert(
      send(c, bob, { ...distributor(c), functionName: 'claim', args: [node.address, B, 10n, proof] }),
      'InvalidProof',
      [B, 10n],
    );
    await expectRevert(
      send(c, bob, { ...distributor(c), functionName: 'claim', args: [node.address, A, 10n, []] }),
      'InvalidProof',
      [A, 10n],
    );
    const other = payouts([
      [A, 10n],
      [B, 21n],
    ]);
    await expectRevert(claim(c, bob, node.address, A, other), 'InvalidProof', [A, 10n]);
    // node's root does not pay from node2's fees.
    await expectRevert(claim(c, bob, node2.address, A, p), 'InvalidProof', [A, 10n]);
    expect(await claimedOf(c, node.address, A)).toBe(0n);
  });

  it('refuses a second claim (NothingToClaim), alone or in a batch that then reverts as a whole', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p = payouts([
      [A, 10n],
      [B, 20n],
    ]);
    await postFinal(c, node, 1n, p);
    await claim(c, bob, n, A, p);
    const err = await expectRevert(claim(c, bob, n, A, p), 'NothingToClaim', [A, 10n]);
    expect(err.message).toBe(`RewardDistributor.claim reverted with NothingToClaim("${A}", "10")`);
    await expectRevert(claimMany(c, bob, [request(n, B, p), request(n, B, p)]), 'NothingToClaim', [B, 20n]);
    expect(await claimedOf(c, n, B)).toBe(0n);
    await expectRevert(claimMany(c, bob, [request(n, B, p), request(n, A, p)]), 'NothingToClaim', [A, 10n]);
    expect([await balanceOf(c, A), await balanceOf(c, B)]).toEqual([10n, 0n]);
  });

  it("stops at the final root's declared total (ExceedsDeclaredTotal), alone or in a batch", async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    // Leaves sum to 130 but the root declares 100 (no leaf is above 100, so no fraud proof applies).
    const p = payouts([
      [A, 70n],
      [B, 60n],
    ]);
    const { finalAt } = await post(c, node, 1n, p, 100n);
    await warpTo(c, finalAt);
    await finalize(c, n, 1n);
    await expectRevert(claimMany(c, bob, [request(n, A, p), request(n, B, p)]), 'ExceedsDeclaredTotal', [
      n,
      100n,
      130n,
    ]);
    await claim(c, bob, n, B, p);
    await expectRevert(claim(c, bob, n, A, p), 'ExceedsDeclaredTotal', [n, 100n, 130n]);
    expect(await nodeState(c, n)).toMatchObject({ finalTotal: 100n, claimedTotal: 60n });
    expect(await balanceOf(c, A)).toBe(0n);
  });

  it('claimMany pays several accounts on several nodes in one transaction; an empty batch is a no-op', async () => {
    const c = chain();
    const { node, node2, bob } = cast(c);
    const p1 = payouts([
      [A, 10n],
      [B, 20n],
    ]);
    const p2 = payouts([
      [A, 5n],
      [C, 30n],
    ]);
    await post(c, node, 1n, p1);
    const { finalAt } = await post(c, node2, 1n, p2);
    await warpTo(c, finalAt);
    await finalize(c, node.address, 1n);
    await finalize(c, node2.address, 1n);
    const empty = await claimMany(c, bob, []);
    expect(distributorEvents(empty, 'Claimed')).toEqual([]);
    const receipt = await claimMany(c, bob, [
      request(node.address, A, p1),
      request(node2.address, A, p2),
      request(node.address, B, p1),
      request(node2.address, C, p2),
    ]);
    expect(distributorEvents(receipt, 'Claimed')).toEqual([
      { node: node.address, account: A, epoch: 1n, amount: 10n, cumulative: 10n },
      { node: node2.address, account: A, epoch: 1n, amount: 5n, cumulative: 5n },
      { node: node.address, account: B, epoch: 1n, amount: 20n, cumulative: 20n },
      { node: node2.address, account: C, epoch: 1n, amount: 30n, cumulative: 30n },
    ]);
    expect([await balanceOf(c, A), await balanceOf(c, B), await balanceOf(c, C)]).toEqual([15n, 20n, 30n]);
    expect([await claimedOf(c, node.address, A), await claimedOf(c, node2.address, A)]).toEqual([10n, 5n]);
    expect((await nodeState(c, node.address)).claimedTotal).toBe(30n);
    expect((await nodeState(c, node2.address)).claimedTotal).toBe(35n);
  });

  it('claims only against the final root; cumulative amounts pay only the difference', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
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
    await postFinal(c, node, 1n, p1);
    await claim(c, bob, n, A, p1);
    const { finalAt: final2 } = await post(c, node, 2n, p2);
    // Epoch 2 is pending: its amounts are not claimable, epoch 1's root still is.
    await expectRevert(claim(c, bob, n, A, p2), 'InvalidProof', [A, 160n]);
    await claim(c, bob, n, B, p1);
    await warpTo(c, final2);
    // Its window has passed, but claims switch to its root only once it is finalized (explicitly or by the next post).
    await expectRevert(claim(c, bob, n, A, p2), 'InvalidProof', [A, 160n]);
    await post(c, node, 3n, p3);
    expect((await nodeState(c, n)).claimRoot).toBe(p2.root);
    const receipt = await claim(c, bob, n, A, p2);
    expect(distributorEvents(receipt, 'Claimed')).toEqual([
      { node: n, account: A, epoch: 2n, amount: 60n, cumulative: 160n },
    ]);
    await expectRevert(claim(c, bob, n, B, p2), 'NothingToClaim', [B, 50n]);
    await expectRevert(claim(c, bob, n, A, p1), 'InvalidProof', [A, 100n]);
    await claim(c, bob, n, C, p2);
    expect([await balanceOf(c, A), await balanceOf(c, B), await balanceOf(c, C)]).toEqual([160n, 50n, 40n]);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES - 250n);
  });

  it('skipping epochs loses nothing: one claim under a later root pays everything owed', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    await postFinal(c, node, 1n, payouts([[A, 10n]]));
    await postFinal(c, node, 2n, payouts([[A, 30n]]));
    const p3 = payouts([
      [A, 70n],
      [B, 5n],
    ]);
    await postFinal(c, node, 3n, p3);
    const receipt = await claim(c, bob, node.address, A, p3);
    expect(distributorEvents(receipt, 'Claimed')).toEqual([
      { node: node.address, account: A, epoch: 3n, amount: 70n, cumulative: 70n },
    ]);
  });
});

describe('RewardDistributor: challenge', () => {
  it('pulls the bond from a staker in the window, sets the resolution deadline, holds the bond apart (EpochChallenged)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const { finalAt } = await post(c, node, 1n, payouts([[A, 1n]]));
    await warpTo(c, finalAt - 1n);
    const before = await balanceOf(c, challenger.address);
    const receipt = await challenge(c, challenger, node.address, 1n);
    const resolveBy = (await blockTime(c, receipt)) + RESOLUTION;
    expect(distributorEvents(receipt, 'EpochChallenged')).toEqual([
      { node: node.address, epoch: 1n, challenger: challenger.address, bond: BOND, resolveBy },
    ]);
    expect(await balanceOf(c, challenger.address)).toBe(before - BOND);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES + BOND);
    expect(await bondsHeld(c)).toBe(BOND);
    expect(await getEpoch(c, node.address, 1n)).toMatchObject({
      status: Status.Challenged,
      challenger: challenger.address,
      bond: BOND,
      resolveBy,
      finalAt,
      locked: 1n,
    });
  });

  it('lets any role of staker challenge; refuses non-stakers (NotStaker) and a second challenge (NotChallengeable)', async () => {
    const c = chain();
    const { node, node2, bob, alice } = cast(c);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await send(c, bob, { ...c.token, functionName: 'approve', args: [distributor(c).address, maxUint256] });
    const err = await expectRevert(challenge(c, bob, node.address, 1n), 'NotStaker', [bob.address]);
    expect(err.message).toBe(`RewardDistributor.challenge reverted with NotStaker("${bob.address}")`);
    // A serving node may challenge; so may another validator node.
    await stake(c, alice, servingNode, 1_000n * OPEN);
    await fundBonds(c, alice);
    await challenge(c, alice, node.address, 1n);
    expect((await getEpoch(c, node.address, 1n)).challenger).toBe(alice.address);
    await fundBonds(c, node2);
    await expectRevert(challenge(c, node2, node.address, 1n), 'NotChallengeable', [node.address, 1n]);
    // A validator node may challenge another node's epoch.
    await post(c, node2, 1n, payouts([[A, 1n]]));
    await fundBonds(c, node);
    await challenge(c, node, node2.address, 1n);
    expect(await bondsHeld(c)).toBe(2n * BOND);
  });

  it('needs the bond: no allowance → the transfer refuses', async () => {
    const c = chain();
    const { node, node2 } = cast(c);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await expectRevert(challenge(c, node2, node.address, 1n), 'ERC20InsufficientAllowance', [
      distributor(c).address,
      0n,
      BOND,
    ]);
    expect(await bondsHeld(c)).toBe(0n);
  });

  it('takes the bond configured at challenge time', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    await post(c, node, 1n, payouts([[A, 1n]]));
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setChallengeTerms', args: [WINDOW, 2n * BOND] });
    const before = await balanceOf(c, challenger.address);
    const receipt = await challenge(c, challenger, node.address, 1n);
    expect(distributorEvents(receipt, 'EpochChallenged')[0]?.bond).toBe(2n * BOND);
    expect(await balanceOf(c, challenger.address)).toBe(before - 2n * BOND);
    expect(await bondsHeld(c)).toBe(2n * BOND);
  });

  it('refuses unknown epochs and epochs past their window, final or void (UnknownEpoch, NotChallengeable)', async () => {
    const c = chain();
    const { node, node2, challenger } = cast(c);
    await expectRevert(challenge(c, challenger, node.address, 0n), 'UnknownEpoch', [node.address, 0n]);
    await expectRevert(challenge(c, challenger, node.address, 1n), 'UnknownEpoch', [node.address, 1n]);
    const { finalAt } = await post(c, node, 1n, payouts([[A, 1n]]));
    await expectRevert(challenge(c, challenger, node.address, 2n), 'UnknownEpoch', [node.address, 2n]);
    await expectRevert(challenge(c, challenger, node2.address, 1n), 'UnknownEpoch', [node2.address, 1n]);
    // At finalAt exactly the window is over, finalized or not.
    await warpTo(c, finalAt);
    await expectRevert(challenge(c, challenger, node.address, 1n), 'NotChallengeable', [node.address, 1n]);
    await finalize(c, node.address, 1n);
    await expectRevert(challenge(c, challenger, node.address, 1n), 'NotChallengeable', [node.address, 1n]);
    // Void.
    await post(c, node, 2n, payouts([[A, 2n]]));
    await challenge(c, challenger, node.address, 2n);
    await warpTo(c, (await getEpoch(c, node.address, 2n)).resolveBy + 1n);
    await resolveExpired(c, challenger, node.address, 2n);
    await expectRevert(challenge(c, challenger, node.address, 2n), 'NotChallengeable', [node.address, 2n]);
  });
});

describe('RewardDistributor: resolveChallenge', () => {
  it('is refused to anyone but the resolver (the timelock)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node.address, 1n);
    for (const who of [c.deployer, node, challenger])
      await expectRevert(
        resolve(c, who, node.address, 1n, true, noCorrection, 0n),
        'AccessControlUnauthorizedAccount',
        [who.address, roleIds.RESOLVER],
      );
    const governor = await c.impersonate(c.governor.address);
    await expectRevert(
      resolve(c, governor, node.address, 1n, false, noCorrection, 0n),
      'AccessControlUnauthorizedAccount',
      [governor, roleIds.RESOLVER],
    );
  });

  it('refuses unknown and unchallenged epochs, resolving twice (NotChallenged) and after the deadline (ResolutionExpired)', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const n = node.address;
    const timelock = await c.impersonate(c.timelock.address);
    await expectRevert(resolve(c, timelock, n, 1n, false, noCorrection, 0n), 'UnknownEpoch', [n, 1n]);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await expectRevert(resolve(c, timelock, n, 0n, false, noCorrection, 0n), 'UnknownEpoch', [n, 0n]);
    await expectRevert(resolve(c, timelock, n, 1n, false, noCorrection, 0n), 'NotChallenged', [n, 1n]);
    await challenge(c, challenger, n, 1n);
    const { resolveBy } = await getEpoch(c, n, 1n);
    await warpTo(c, resolveBy + 1n);
    await expectRevert(resolve(c, timelock, n, 1n, true, noCorrection, 0n), 'ResolutionExpired', [n, 1n, resolveBy]);
    await expectRevert(resolve(c, timelock, n, 1n, false, noCorrection, 0n), 'ResolutionExpired', [n, 1n, resolveBy]);
    expect((await getEpoch(c, n, 1n)).status).toBe(Status.Challenged);
  });

  it('may resolve at the deadline itself, not twice', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const n = node.address;
    const timelock = await c.impersonate(c.timelock.address);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, n, 1n);
    await warpTo(c, (await getEpoch(c, n, 1n)).resolveBy);
    await resolve(c, timelock, n, 1n, true, correction(payouts([[A, 1n]]), 1n), 0n);
    await expectRevert(resolve(c, timelock, n, 1n, true, noCorrection, 0n), 'NotChallenged', [n, 1n]);
  });

  it('upheld: replaces the root, slashes at least the locked stake, returns the bond, makes it claimable', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    const wrong = payouts([
      [n, 900n * OPEN],
      [A, 100n * OPEN],
    ]);
    const right = payouts([
      [A, 600n * OPEN],
      [B, 400n * OPEN],
    ]);
    await postFinal(c, node, 1n, payouts([[A, 50n * OPEN]]));
    const { finalAt, locked } = await post(c, node, 2n, wrong);
    // All the wrong root could pay out: its whole total, as nothing was claimed under epoch 1.
    expect(locked).toBe(1_000n * OPEN);
    await challenge(c, challenger, n, 2n);
    const timelock = await c.impersonate(c.timelock.address);
    const [treasuryBefore, challengerBefore] = [
      await balanceOf(c, c.timelock.address),
      await balanceOf(c, challenger.address),
    ];
    const fix = correction(right, 2n);
    // Governance asks for less than the locked stake: the locked stake is slashed anyway.
    const receipt = await resolve(c, timelock, n, 2n, true, fix, 10n * OPEN);
    const t = await blockTime(c, receipt);
    expect(distributorEvents(receipt, 'ChallengeUpheld')).toEqual([
      { node: n, epoch: 2n, oldRoot: wrong.root, newRoot: right.root, slashed: locked },
    ]);
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([
      { node: n, epoch: 2n, payoutRoot: right.root, cumulativeTotal: right.total },
    ]);
    expect(stakingEvents(receipt, 'Slashed')).toEqual([
      {
        staker: n,
        role: validator,
        amount: locked,
        fromActive: locked,
        fromUnbonding: 0n,
        reasonHash: slashReason(n, 2n),
        slasher: distributor(c).address,
      },
    ]);
    expect(await stakeOf(c, n)).toBe(NODE_STAKE - locked);
    expect(await lockedOf(c, n)).toBe(0n);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + locked);
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore + BOND);
    expect(await bondsHeld(c)).toBe(0n);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES);
    expect(await getEpoch(c, n, 2n)).toMatchObject({
      payoutRoot: right.root,
      cumulativeTotal: right.total,
      receiptsRoot: fix.receiptsRoot,
      receiptsCID: fix.receiptsCID,
      status: Status.Final,
      bond: 0n,
      challenger: zeroAddress,
      locked: 0n,
    });
    expect(finalAt).toBeGreaterThan(t);
    expect(await nodeState(c, n)).toMatchObject({ finalizedEpoch: 2n, claimRoot: right.root, finalTotal: right.total });
    await expectRevert(claim(c, bob, n, n, wrong), 'InvalidProof', [n, 900n * OPEN]);
    await claimMany(c, bob, [request(n, A, right), request(n, B, right)]);
    expect([await balanceOf(c, A), await balanceOf(c, B)]).toEqual([600n * OPEN, 400n * OPEN]);
    // The next epoch can follow immediately.
    await post(c, node, 3n, payouts([[A, 1_000n * OPEN]]));
  });

  it('upheld: slashes more than the locked stake when asked, at most the slashable stake (unbonding included)', async () => {
    const c = chain();
    const { node, node2, challenger } = cast(c);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [validator, 5_000n * OPEN] });
    await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node.address, 1n);
    const receipt = await resolve(c, timelock, node.address, 1n, true, correction(payouts([[A, 2n]]), 1n), maxUint256);
    expect(distributorEvents(receipt, 'ChallengeUpheld')[0]?.slashed).toBe(NODE_STAKE);
    expect(stakingEvents(receipt, 'Slashed')[0]).toMatchObject({
      amount: NODE_STAKE,
      fromActive: 15_000n * OPEN,
      fromUnbonding: 5_000n * OPEN,
    });
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'slashableOf',
        args: [node.address, validator],
      }),
    ).toBe(0n);
    // A fully slashed node cannot post again.
    await expectRevert(postEpoch(c, node, 2n, zeroHash, 2n), 'NotAttestor', [node.address]);
    // Between the locked stake and everything: exactly what governance asked.
    await post(c, node2, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node2.address, 1n);
    const some = await resolve(c, timelock, node2.address, 1n, true, correction(payouts([[A, 1n]]), 1n), 3n * OPEN);
    expect(distributorEvents(some, 'ChallengeUpheld')[0]?.slashed).toBe(3n * OPEN);
    expect(await stakeOf(c, node2.address)).toBe(NODE_STAKE - 3n * OPEN);
  });

  it('upheld: the correction is checked too (TotalDecreased, ExceedsFees) and the challenge stays open', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const n = node.address;
    const timelock = await c.impersonate(c.timelock.address);
    await postFinal(c, node, 1n, payouts([[A, 500n]]));
    await post(c, node, 2n, payouts([[A, 700n]]));
    await challenge(c, challenger, n, 2n);
    await expectRevert(
      resolve(c, timelock, n, 2n, true, correction(payouts([[A, 499n]]), 2n), OPEN),
      'TotalDecreased',
      [500n, 499n],
    );
    await expectRevert(
      resolve(c, timelock, n, 2n, true, correction(payouts([[A, FEES + 1n]]), 2n), OPEN),
      'ExceedsFees',
      [n, FEES + 1n, FEES],
    );
    expect(await getEpoch(c, n, 2n)).toMatchObject({ status: Status.Challenged, bond: BOND });
    expect(await bondsHeld(c)).toBe(BOND);
    await resolve(c, timelock, n, 2n, true, correction(payouts([[A, 500n]]), 2n), OPEN);
    expect((await nodeState(c, n)).finalizedEpoch).toBe(2n);
  });

  it('rejected: the bond goes to the treasury and the epoch is pending again, its window reopened (ChallengeRejected)', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    const p = payouts([
      [A, 70n],
      [B, 30n],
    ]);
    const { finalAt, locked } = await post(c, node, 1n, p);
    await challenge(c, challenger, n, 1n);
    const timelock = await c.impersonate(c.timelock.address);
    await warpTo(c, finalAt + 10n * DAY);
    const [treasuryBefore, challengerBefore] = [
      await balanceOf(c, c.timelock.address),
      await balanceOf(c, challenger.address),
    ];
    const receipt = await resolve(c, timelock, n, 1n, false, correction(payouts([[A, 1n]]), 1n), OPEN);
    const reopened = (await blockTime(c, receipt)) + WINDOW;
    expect(distributorEvents(receipt, 'ChallengeRejected')).toEqual([
      { node: n, epoch: 1n, bondForfeited: BOND, finalAt: reopened },
    ]);
    expect(distributorEvents(receipt, 'ChallengeUpheld')).toEqual([]);
    expect(distributorEvents(receipt, 'EpochFinalized')).toEqual([]);
    expect(stakingEvents(receipt, 'Slashed')).toEqual([]);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + BOND);
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore);
    expect(await bondsHeld(c)).toBe(0n);
    expect(await balanceOf(c, distributor(c).address)).toBe(2n * FEES);
    expect(await stakeOf(c, n)).toBe(NODE_STAKE);
    expect(await lockedOf(c, n)).toBe(locked);
    expect(await getEpoch(c, n, 1n)).toMatchObject({
      payoutRoot: p.root,
      cumulativeTotal: 100n,
      status: Status.Pending,
      finalAt: reopened,
      resolveBy: 0n,
      challenger: zeroAddress,
      bond: 0n,
    });
    // Pending until the reopened window passes; then final, unlocked and claimable.
    await expectRevert(finalize(c, n, 1n), 'NotFinal', [n, 1n, Status.Pending, reopened]);
    await warpTo(c, reopened);
    await finalize(c, n, 1n);
    expect(await lockedOf(c, n)).toBe(0n);
    await claimMany(c, bob, [request(n, A, p), request(n, B, p)]);
    expect([await balanceOf(c, A), await balanceOf(c, B)]).toEqual([70n, 30n]);
  });

  it('rejected at once: the window never gets shorter than the original one', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const { finalAt } = await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node.address, 1n);
    const timelock = await c.impersonate(c.timelock.address);
    // send() pins blocks to the latest timestamp: the challenge and the verdict land in the posting second.
    const receipt = await resolve(c, timelock, node.address, 1n, false, noCorrection, 0n);
    expect(await blockTime(c, receipt)).toBe(finalAt - WINDOW);
    expect(distributorEvents(receipt, 'ChallengeRejected')[0]?.finalAt).toBe(finalAt);
    expect((await getEpoch(c, node.address, 1n)).finalAt).toBe(finalAt);
  });

  it('rejected: the bond goes to the treasury governance set after the challenge', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await challenge(c, challenger, node.address, 1n);
    const timelock = await c.impersonate(c.timelock.address);
    await send(c, timelock, { ...config(c), functionName: 'setPlatformTreasury', args: [bob.address] });
    const before = await balanceOf(c, bob.address);
    await resolve(c, timelock, node.address, 1n, false, noCorrection, 0n);
    expect(await balanceOf(c, bob.address)).toBe(before + BOND);
  });

  it('upheld through a real governance proposal (propose, vote, queue, execute) within the resolution period', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    const wrong = payouts([[n, 5_000n * OPEN]]);
    const right = payouts([
      [A, 3_000n * OPEN],
      [B, 2_000n * OPEN],
    ]);
    await post(c, node, 1n, wrong);
    await challenge(c, challenger, n, 1n);
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
            n,
            1n,
            true,
            correction(right, 1n),
            6_000n * OPEN,
          ]),
        },
      ],
      description: 'Epoch 1 of the node paid the node instead of the contributors: replace the root and slash',
    });
    expect(await blockTime(c, receipts.execute)).toBeLessThanOrEqual((await getEpoch(c, n, 1n)).postedAt + RESOLUTION);
    expect(distributorEvents(receipts.execute, 'ChallengeUpheld')).toEqual([
      { node: n, epoch: 1n, oldRoot: wrong.root, newRoot: right.root, slashed: 6_000n * OPEN },
    ]);
    expect(stakingEvents(receipts.execute, 'Slashed')[0]).toMatchObject({
      staker: n,
      amount: 6_000n * OPEN,
      slasher: distributor(c).address,
    });
    expect(await balanceOf(c, challenger.address)).toBe(challengerBefore + BOND);
    expect((await nodeState(c, n)).claimRoot).toBe(right.root);
    await claimMany(c, bob, [request(n, A, right), request(n, B, right)]);
    expect(await balanceOf(c, A)).toBe(3_000n * OPEN);
  });
});

describe('RewardDistributor: resolveExpired', () => {
  it('refuses unknown, unchallenged and not yet expired epochs (UnknownEpoch, NotChallenged, ResolutionPending)', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    await expectRevert(resolveExpired(c, bob, n, 1n), 'UnknownEpoch', [n, 1n]);
    await post(c, node, 1n, payouts([[A, 1n]]));
    await expectRevert(resolveExpired(c, bob, n, 1n), 'NotChallenged', [n, 1n]);
    await challenge(c, challenger, n, 1n);
    const { resolveBy } = await getEpoch(c, n, 1n);
    await expectRevert(resolveExpired(c, bob, n, 1n), 'ResolutionPending', [n, 1n, resolveBy]);
    await warpTo(c, resolveBy);
    await expectRevert(resolveExpired(c, bob, n, 1n), 'ResolutionPending', [n, 1n, resolveBy]);
  });

  it('after the deadline anyone voids the epoch: no pay, no slash, bond back, stake unlocked (EpochVoided)', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    const p = payouts([[A, 100n]]);
    const { locked } = await post(c, node, 1n, p);
    await challenge(c, challenger, n, 1n);
    const { resolveBy } = await getEpoch(c, n, 1n);
    await warpTo(c, resolveBy + 1n);
    const before = await balanceOf(c, challenger.address);
    const receipt = await resolveExpired(c, bob, n, 1n);
    expect(distributorEvents(receipt, 'EpochVoided')).toEqual([
      { node: n, epoch: 1n, reason: VoidReason.ResolutionExpired, by: bob.address, slashed: 0n },
    ]);
    expect(stakingEvents(receipt, 'StakeLockChanged')).toEqual([
      { staker: n, role: validator, delta: -locked, lockedAfter: 0n, locker: distributor(c).address },
    ]);
    expect(stakingEvents(receipt, 'Slashed')).toEqual([]);
    expect(await balanceOf(c, challenger.address)).toBe(before + BOND);
    expect(await bondsHeld(c)).toBe(0n);
    expect(await stakeOf(c, n)).toBe(NODE_STAKE);
    expect(await getEpoch(c, n, 1n)).toMatchObject({ status: Status.Void, locked: 0n, bond: 0n });
    expect(await nodeState(c, n)).toMatchObject({ epochCount: 1n, finalizedEpoch: 0n, claimRoot: zeroHash });
    await expectRevert(claim(c, bob, n, A, p), 'InvalidProof', [A, 100n]);
    await expectRevert(resolveExpired(c, bob, n, 1n), 'NotChallenged', [n, 1n]);
    // The same fees are posted again and pay.
    await postFinal(c, node, 2n, p);
    await claim(c, bob, n, A, p);
    expect(await balanceOf(c, A)).toBe(100n);
  });
});

describe('RewardDistributor: proveDecrease', () => {
  const prove = (
    c: TestChain,
    by: Account,
    node: Address,
    epoch: bigint,
    account: Address,
    prev: { amount: bigint; proof: Hex[] },
    next: { amount: bigint; proof: Hex[] },
  ) =>
    send(c, by, {
      ...distributor(c),
      functionName: 'proveDecrease',
      args: [node, epoch, account, prev.amount, prev.proof, next.amount, next.proof],
    });

  it('voids the epoch and slashes its locked stake when a leaf is below the final root (EpochVoided, Slashed)', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p1 = payouts([
      [A, 100n * OPEN],
      [B, 10n * OPEN],
    ]);
    const p2 = payouts([
      [A, 40n * OPEN],
      [n, 500n * OPEN],
    ]);
    await postFinal(c, node, 1n, p1);
    const { locked } = await post(c, node, 2n, p2);
    // Nothing claimed under epoch 1: the whole 540 the root could pay out, not just the 430 it adds.
    expect(locked).toBe(540n * OPEN);
    const receipt = await prove(c, bob, n, 2n, A, p1.of(A), p2.of(A));
    expect(distributorEvents(receipt, 'EpochVoided')).toEqual([
      { node: n, epoch: 2n, reason: VoidReason.DecreasedLeaf, by: bob.address, slashed: locked },
    ]);
    expect(stakingEvents(receipt, 'Slashed')[0]).toMatchObject({
      staker: n,
      amount: locked,
      reasonHash: slashReason(n, 2n),
    });
    expect(await stakeOf(c, n)).toBe(NODE_STAKE - locked);
    expect(await lockedOf(c, n)).toBe(0n);
    expect(await getEpoch(c, n, 2n)).toMatchObject({ status: Status.Void, locked: 0n });
    expect(await nodeState(c, n)).toMatchObject({ finalizedEpoch: 1n, claimRoot: p1.root, finalTotal: 110n * OPEN });
    await expectRevert(prove(c, bob, n, 2n, A, p1.of(A), p2.of(A)), 'NotDisputable', [n, 2n, Status.Void]);
  });

  it('refuses what is not fraud or not proven (UnknownEpoch, NotDisputable, NotFraud, InvalidProof)', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p1 = payouts([
      [A, 100n],
      [B, 10n],
    ]);
    const p2 = payouts([
      [A, 40n],
      [B, 10n],
      [C, 200n],
    ]);
    await expectRevert(prove(c, bob, n, 1n, A, p1.of(A), p2.of(A)), 'UnknownEpoch', [n, 1n]);
    await postFinal(c, node, 1n, p1);
    await expectRevert(prove(c, bob, n, 1n, A, p1.of(A), p1.of(A)), 'NotDisputable', [n, 1n, Status.Final]);
    await post(c, node, 2n, p2);
    // Equal amounts are not a decrease.
    await expectRevert(prove(c, bob, n, 2n, B, p1.of(B), p2.of(B)), 'NotFraud', []);
    // The previous amount must be proven under the node's final root, the new one under the epoch's root.
    await expectRevert(prove(c, bob, n, 2n, A, { ...p1.of(A), amount: 99n }, p2.of(A)), 'InvalidProof', [A, 99n]);
    await expectRevert(prove(c, bob, n, 2n, A, p2.of(C), p2.of(A)), 'InvalidProof', [A, 200n]);
    await expectRevert(prove(c, bob, n, 2n, A, p1.of(A), { ...p2.of(A), amount: 39n }), 'InvalidProof', [A, 39n]);
    await expectRevert(prove(c, bob, n, 2n, A, p1.of(A), p1.of(B)), 'InvalidProof', [A, 10n]);
    expect((await getEpoch(c, n, 2n)).status).toBe(Status.Pending);
  });

  it('on a challenged epoch: voids it without governance and returns the bond', async () => {
    const c = chain();
    const { node, challenger, bob } = cast(c);
    const n = node.address;
    const p1 = payouts([[A, 100n]]);
    const p2 = payouts([
      [A, 1n],
      [B, 200n],
    ]);
    await postFinal(c, node, 1n, p1);
    await post(c, node, 2n, p2);
    await challenge(c, challenger, n, 2n);
    const before = await balanceOf(c, challenger.address);
    const receipt = await prove(c, bob, n, 2n, A, p1.of(A), p2.of(A));
    // The lock (and the slash) is all the root could pay out: 201, nothing having been claimed.
    expect(distributorEvents(receipt, 'EpochVoided')[0]).toMatchObject({
      reason: VoidReason.DecreasedLeaf,
      slashed: 201n,
    });
    expect(await balanceOf(c, challenger.address)).toBe(before + BOND);
    expect(await bondsHeld(c)).toBe(0n);
    // The node's next epoch follows at once.
    await post(c, node, 3n, payouts([[A, 100n]]));
  });
});

describe('RewardDistributor: proveLeafAboveTotal', () => {
  const prove = (c: TestChain, by: Account, node: Address, epoch: bigint, account: Address, p: Payouts) => {
    const { amount, proof } = p.of(account);
    return send(c, by, {
      ...distributor(c),
      functionName: 'proveLeafAboveTotal',
      args: [node, epoch, account, amount, proof],
    });
  };

  it('voids the epoch and slashes its locked stake when one leaf exceeds the declared total (EpochVoided, Slashed)', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p = payouts([
      [A, 1n],
      [n, FEES + OPEN],
    ]);
    const { locked } = await post(c, node, 1n, p, 2n * OPEN);
    const receipt = await prove(c, bob, n, 1n, n, p);
    expect(distributorEvents(receipt, 'EpochVoided')).toEqual([
      { node: n, epoch: 1n, reason: VoidReason.LeafAboveTotal, by: bob.address, slashed: locked },
    ]);
    expect(stakingEvents(receipt, 'Slashed')[0]).toMatchObject({ staker: n, amount: 2n * OPEN });
    expect(await stakeOf(c, n)).toBe(NODE_STAKE - 2n * OPEN);
    expect(await lockedOf(c, n)).toBe(0n);
    await expectRevert(prove(c, bob, n, 1n, n, p), 'NotDisputable', [n, 1n, Status.Void]);
  });

  it('refuses what is not fraud or not proven (UnknownEpoch, NotDisputable, NotFraud, InvalidProof)', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const n = node.address;
    const p = payouts([
      [A, 60n],
      [B, 40n],
    ]);
    await expectRevert(prove(c, bob, n, 1n, A, p), 'UnknownEpoch', [n, 1n]);
    const { finalAt } = await post(c, node, 1n, p, 60n);
    // A leaf equal to the total is not above it.
    await expectRevert(prove(c, bob, n, 1n, A, p), 'NotFraud', []);
    const forged = payouts([[A, 61n]]);
    await expectRevert(prove(c, bob, n, 1n, A, forged), 'InvalidProof', [A, 61n]);
    await warpTo(c, finalAt);
    await finalize(c, n, 1n);
    await expectRevert(prove(c, bob, n, 1n, A, p), 'NotDisputable', [n, 1n, Status.Final]);
  });
});

describe('RewardDistributor: gas', () => {
  /**
   * Gas of `node` posting epoch `epoch` with `n` payees, from a snapshot that is reverted afterwards. From epoch 2
   * on the post also finalizes the previous epoch and moves the stake lock (the steady state).
   */
  const postGas = async (c: TestChain, n: number, epoch: bigint): Promise<bigint> => {
    const { node } = cast(c);
    const entries = Array.from({ length: n }, (_, i) => [payee(`gas ${n} ${i}`), 1_000n + BigInt(i)] as const);
    const p = payouts(entries);
    const test = c.clients.test();
    const snapshot = await test.snapshot();
    try {
      for (let e = 1n; e < epoch; e++) {
        const { finalAt } = await post(c, node, e, payouts([[A, e]]));
        await warpTo(c, finalAt);
      }
      const { receipt } = await post(c, node, epoch, p);
      return receipt.gasUsed;
    } finally {
      await test.revert({ id: snapshot });
    }
  };

  it('costs the same to post an epoch for 2 or 200 payees, and little to claim', async () => {
    const c = chain();
    const { node, bob } = cast(c);
    const within = (a: bigint, b: bigint, gas: bigint) => a - b < gas && b - a < gas;
    const [first2, first200] = [await postGas(c, 2, 1n), await postGas(c, 200, 1n)];
    const [next2, next200] = [await postGas(c, 2, 3n), await postGas(c, 200, 3n)];
    // Only calldata (the root's and total's bytes) differs.
    expect(within(first2, first200, 300n), `first postEpoch gas 2: ${first2}, 200: ${first200}`).toBe(true);
    expect(within(next2, next200, 300n), `next postEpoch gas 2: ${next2}, 200: ${next200}`).toBe(true);
    // Cold storage for the epoch record and the stake lock dominate.
    expect(first2).toBeLessThan(350_000n);
    expect(next2).toBeLessThan(350_000n);

    // Claims under a 200-payee root (proofs of depth 7-8).
    const entries = Array.from({ length: 200 }, (_, i) => [payee(`claim ${i}`), 10n * OPEN + BigInt(i)] as const);
    const p = payouts(entries);
    await postFinal(c, node, 1n, p);
    const [fresh, holder] = [entries[0]?.[0], entries[1]?.[0]] as [Address, Address];
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [holder, OPEN] });
    const claimFresh = (await claim(c, bob, node.address, fresh, p)).gasUsed;
    const claimHolder = (await claim(c, bob, node.address, holder, p)).gasUsed;
    const ten = entries.slice(10, 20).map(([a]) => request(node.address, a, p));
    const claimMany10 = (await claimMany(c, bob, ten)).gasUsed;
    expect(claimHolder).toBeLessThan(claimFresh);
    expect(claimFresh).toBeLessThan(120_000n);
    expect(claimMany10).toBeLessThan(10n * claimFresh);
  });
});
