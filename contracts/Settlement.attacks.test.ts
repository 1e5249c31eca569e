/**
 * Attacks on settlement (issue 10), one test each, asserting the safety property directly against a real anvil:
 * fees arrive through InferenceEscrow vouchers redeemed by each serving node, which posts its own epochs to the
 * RewardDistributor backed by its validator stake; governance (the timelock) resolves challenges.
 *
 * 1. An attestor posts a root paying itself and unbonds before governance can slash it.
 * 1b. An attestor posts a root with an unchanged total that only moves unclaimed amounts to a sock puppet.
 * 3. A root declaring a tiny total whose leaves sum to more than the fees drains the challengers' bonds.
 * 4. A challenge governance never resolves freezes settlement for everyone.
 * 5. A stranger posts into a node's epoch sequence and blocks it.
 * 8. A sock puppet challenges the attestor's own epoch and gets it rejected, cutting the window short.
 */
import { type Address, type Hex, maxUint256 } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { OPEN, stakingRoles } from '../src/chain/index.js';
import { expectRevert, send, useTestChain, warpTo } from '../test/fixtures/chain.js';
import {
  BOND,
  balanceOf,
  bondsHeld,
  cast,
  challenge,
  claim,
  DAY,
  distributor,
  distributorEvents,
  epochArgs,
  escrow,
  finalize,
  fundBonds,
  getEpoch,
  lockedOf,
  nodeState,
  type Payouts,
  payee,
  payouts,
  post,
  postEpoch,
  redeem,
  Status,
  stake,
  stakeOf,
  stakingEvents,
  timelockResolves,
  VoidReason,
} from '../test/fixtures/settlement.js';

const chain = useTestChain();

/** The validator minimum: the attacking node stakes exactly this. */
const MIN_STAKE = 10_000n * OPEN;
/** Fees each node has redeemed when each test starts (more than the minimum stake). */
const FEES = 12_000n * OPEN;
const { validator, agent } = stakingRoles;

const A = payee('A');
const B = payee('B');

beforeAll(async () => {
  const c = chain();
  const { payer, node, node2, challenger, puppet } = cast(c);
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [payer.address, 2n * FEES] });
  await send(c, payer, { ...c.token, functionName: 'approve', args: [escrow(c).address, maxUint256] });
  for (const [i, n] of [node, node2].entries()) {
    await send(c, payer, { ...escrow(c), functionName: 'openChannel', args: [n.address, FEES, 365n * DAY] });
    await redeem(c, n, BigInt(i + 1), FEES);
  }
  await stake(c, node, validator, MIN_STAKE);
  await stake(c, node2, validator, MIN_STAKE);
  for (const watcher of [challenger, puppet]) {
    await stake(c, watcher, agent, 100n * OPEN);
    await fundBonds(c, watcher);
  }
});

describe('Settlement attacks', () => {
  it('attack 1: attestor cannot escape slashing by unbonding', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const n = node.address;
    // Paying itself all its fees would add more than its whole stake: refused.
    const everything = payouts([[n, FEES]]);
    await expectRevert(postEpoch(c, node, 1n, everything.root, FEES), 'StakeTooLowForEpoch', [n, FEES, MIN_STAKE]);
    // As much as its stake backs: its whole stake is locked.
    const theft = payouts([[n, MIN_STAKE]]);
    const test = c.clients.test();
    const wallet = c.clients.wallet(node);
    const stakeBefore = await stakeOf(c, n);
    // The post and the unstake in the same block, in that order (one sender, consecutive nonces).
    await test.setAutomine(false);
    let hashes: Hex[];
    try {
      hashes = [
        await wallet.writeContract({
          ...distributor(c),
          functionName: 'postEpoch',
          args: epochArgs(1n, theft.root, MIN_STAKE),
          account: node,
          chain: c.clients.chain,
          gas: 600_000n,
        }),
        await wallet.writeContract({
          ...c.staking,
          functionName: 'requestUnstake',
          args: [validator, MIN_STAKE],
          account: node,
          chain: c.clients.chain,
          gas: 300_000n,
        }),
      ];
      await test.mine({ blocks: 1 });
    } finally {
      await test.setAutomine(true);
    }
    const [posted, unstaked] = await Promise.all(
      hashes.map((hash) => c.clients.public.waitForTransactionReceipt({ hash })),
    );
    expect(unstaked?.blockNumber).toBe(posted?.blockNumber);
    expect(posted?.status).toBe('success');
    expect(unstaked?.status, 'the unstake in the posting block must revert').toBe('reverted');
    expect(await lockedOf(c, n)).toBe(MIN_STAKE);
    await expectRevert(
      send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [validator, MIN_STAKE] }),
      'StakeLocked',
      [n, validator, MIN_STAKE, 0n],
    );
    const { finalAt } = await getEpoch(c, n, 1n);
    await challenge(c, challenger, n, 1n);
    // Governance takes longer than the old 7-day unbonding: nothing can be withdrawn meanwhile.
    await warpTo(c, finalAt + 8n * DAY);
    await expectRevert(
      send(c, node, { ...c.staking, functionName: 'withdraw', args: [validator] }),
      'NothingToWithdraw',
      [n, validator, 0n],
    );
    await expectRevert(
      send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [validator, MIN_STAKE] }),
      'StakeLocked',
      [n, validator, MIN_STAKE, 0n],
    );
    const receipt = await timelockResolves(c, n, 1n, true, payouts([[A, MIN_STAKE]]), 0n);
    const [slashed] = stakingEvents(receipt, 'Slashed');
    expect(slashed?.staker).toBe(n);
    expect(slashed?.amount).toBeGreaterThanOrEqual(MIN_STAKE);
    expect(stakeBefore - (await stakeOf(c, n))).toBeGreaterThanOrEqual(MIN_STAKE);
    expect(await lockedOf(c, n)).toBe(0n);
  });

  it('attack 1b: a root that only moves unclaimed amounts between accounts still puts the unclaimed total at stake', async () => {
    const c = chain();
    const { node, puppet, bob } = cast(c);
    const n = node.address;
    // An honest epoch becomes final; nobody claims yet.
    const honest = payouts([
      [A, 6_000n * OPEN],
      [B, 2_000n * OPEN],
    ]);
    const unclaimed = honest.total;
    const { finalAt } = await post(c, node, 1n, honest);
    await warpTo(c, finalAt);
    await finalize(c, n, 1n);
    expect(await nodeState(c, n)).toMatchObject({ finalTotal: unclaimed, claimedTotal: 0n });
    expect(await lockedOf(c, n)).toBe(0n);
    // The next root declares the same total — it adds nothing — but lowers A and pays the difference to a puppet.
    const moved = payouts([
      [A, 1_000n * OPEN],
      [B, 2_000n * OPEN],
      [puppet.address, 5_000n * OPEN],
    ]);
    expect(moved.total).toBe(unclaimed);
    const { receipt, locked } = await post(c, node, 2n, moved);
    // Everything the root could pay out is locked: the whole unclaimed total (it was 0, what the root adds).
    expect(locked).toBe(unclaimed);
    expect(distributorEvents(receipt, 'EpochPosted')[0]?.locked).toBe(unclaimed);
    expect(await lockedOf(c, n)).toBe(unclaimed);
    // So the node cannot unbond away from it.
    await expectRevert(
      send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [validator, MIN_STAKE] }),
      'StakeLocked',
      [n, validator, unclaimed, 0n],
    );
    // A's lowered leaf proves the fraud: the epoch is void and at least the unclaimed total is slashed.
    const stakeBefore = await stakeOf(c, n);
    const prev = honest.of(A);
    const cur = moved.of(A);
    const proved = await send(c, bob, {
      ...distributor(c),
      functionName: 'proveDecrease',
      args: [n, 2n, A, prev.amount, prev.proof, cur.amount, cur.proof],
    });
    const [voided] = distributorEvents(proved, 'EpochVoided');
    expect(voided).toMatchObject({ node: n, epoch: 2n, reason: VoidReason.DecreasedLeaf, slashed: locked });
    expect(voided?.slashed).toBeGreaterThanOrEqual(unclaimed);
    expect(stakingEvents(proved, 'Slashed')[0]?.amount).toBeGreaterThanOrEqual(unclaimed);
    expect(stakeBefore - (await stakeOf(c, n))).toBeGreaterThanOrEqual(unclaimed);
    expect(await lockedOf(c, n)).toBe(0n);
    expect((await getEpoch(c, n, 2n)).status).toBe(Status.Void);
    // The puppet's root never pays; the honest root still pays A in full.
    expect(await nodeState(c, n)).toMatchObject({ finalizedEpoch: 1n, claimRoot: honest.root });
    await expectRevert(claim(c, cast(c).bob, n, puppet.address, moved), 'InvalidProof', [
      puppet.address,
      5_000n * OPEN,
    ]);
    await claim(c, cast(c).bob, n, A, honest);
    expect(await balanceOf(c, A)).toBe(6_000n * OPEN);
  });

  it('attack 3: claims beyond the declared total are refused; bonds are apart from fees', async () => {
    const c = chain();
    const { node, challenger } = cast(c);
    const n = node.address;
    // Declares 1 wei (locks 1 wei of stake) while its leaves pay out all the node's fees plus a bond.
    const lie = payouts([
      [A, 1n],
      [n, FEES + BOND - 1n],
    ]);
    const { finalAt } = await post(c, node, 1n, lie, 1n);
    await warpTo(c, finalAt);
    await finalize(c, n, 1n);
    // An honest next epoch is challenged: the challenger's bond now sits in the distributor.
    const next = payouts([
      [A, 1n],
      [B, 100n * OPEN],
    ]);
    await post(c, node, 2n, next);
    await challenge(c, challenger, n, 2n);
    expect(await bondsHeld(c)).toBe(BOND);
    await claim(c, cast(c).bob, n, A, lie);
    await expectRevert(claim(c, cast(c).bob, n, n, lie), 'ExceedsDeclaredTotal', [n, 1n, FEES + BOND]);
    const { claimedTotal } = await nodeState(c, n);
    expect(claimedTotal).toBe(1n);
    expect(await bondsHeld(c)).toBe(BOND);
    const unclaimedFees = 2n * FEES - claimedTotal;
    expect(await balanceOf(c, distributor(c).address)).toBeGreaterThanOrEqual(unclaimedFees + (await bondsHeld(c)));
    // Governance can still pay the bond back.
    const before = await balanceOf(c, challenger.address);
    await timelockResolves(c, n, 2n, true, next, 0n);
    expect(await balanceOf(c, challenger.address)).toBe(before + BOND);
    expect(await bondsHeld(c)).toBe(0n);
  });

  it('attack 4: an unresolved challenge cannot freeze settlement', async () => {
    const c = chain();
    const { node, node2, challenger, bob } = cast(c);
    const [n, n2] = [node.address, node2.address];
    const p1 = payouts([[A, 100n * OPEN]]);
    await post(c, node, 1n, p1);
    await challenge(c, challenger, n, 1n);
    const { resolveBy } = await getEpoch(c, n, 1n);
    // Meanwhile node2 settles two epochs as if nothing happened.
    const q1 = payouts([[B, 10n * OPEN]]);
    const q2 = payouts([[B, 20n * OPEN]]);
    const { finalAt: q1Final } = await post(c, node2, 1n, q1);
    await warpTo(c, q1Final);
    const { finalAt: q2Final } = await post(c, node2, 2n, q2);
    await warpTo(c, q2Final);
    await finalize(c, n2, 2n);
    await claim(c, cast(c).bob, n2, B, q2);
    expect(await balanceOf(c, B)).toBe(20n * OPEN);
    expect(q2Final).toBeLessThan(resolveBy);
    // Governance never acts; after the deadline the node's next post voids the epoch and goes on.
    await warpTo(c, resolveBy + 1n);
    const p2 = payouts([[A, 150n * OPEN]]);
    const { receipt, finalAt } = await post(c, node, 2n, p2);
    expect(distributorEvents(receipt, 'EpochVoided')).toEqual([
      { node: n, epoch: 1n, reason: VoidReason.ResolutionExpired, by: n, slashed: 0n },
    ]);
    await warpTo(c, finalAt);
    await finalize(c, n, 2n);
    await claim(c, cast(c).bob, n, A, p2);
    expect(await balanceOf(c, A)).toBe(150n * OPEN);
    // The same through resolveExpired, by anyone, on node2.
    await post(c, node2, 3n, payouts([[B, 30n * OPEN]]));
    await challenge(c, challenger, n2, 3n);
    await warpTo(c, (await getEpoch(c, n2, 3n)).resolveBy + 1n);
    const expired = await send(c, bob, { ...distributor(c), functionName: 'resolveExpired', args: [n2, 3n] });
    expect(distributorEvents(expired, 'EpochVoided')[0]?.reason).toBe(VoidReason.ResolutionExpired);
    const { finalAt: q4Final } = await post(c, node2, 4n, payouts([[B, 30n * OPEN]]));

    // Objective fraud needs no governance: a decreased leaf voids and slashes at once…
    const decreased = payouts([
      [A, 1n],
      [n, 2_000n * OPEN],
    ]);
    const { locked } = await post(c, node, 3n, decreased);
    const stakeBefore = await stakeOf(c, n);
    const prev = p2.of(A);
    const cur = decreased.of(A);
    const proved = await send(c, bob, {
      ...distributor(c),
      functionName: 'proveDecrease',
      args: [n, 3n, A, prev.amount, prev.proof, cur.amount, cur.proof],
    });
    expect(distributorEvents(proved, 'EpochVoided')).toEqual([
      { node: n, epoch: 3n, reason: VoidReason.DecreasedLeaf, by: bob.address, slashed: locked },
    ]);
    expect(stakingEvents(proved, 'Slashed')[0]?.amount).toBe(locked);
    expect(await stakeOf(c, n)).toBe(stakeBefore - locked);
    expect((await getEpoch(c, n, 3n)).status).toBe(Status.Void);
    expect(await nodeState(c, n)).toMatchObject({ epochCount: 3n, finalizedEpoch: 2n, claimRoot: p2.root });
    // …and so does a leaf above the declared total (node2, once its epoch 4 is through its window).
    await warpTo(c, q4Final);
    const above = payouts([
      [B, 30n * OPEN],
      [n2, FEES],
    ]);
    const stake2Before = await stakeOf(c, n2);
    const { locked: locked5 } = await post(c, node2, 5n, above, 200n * OPEN);
    const proved2 = await send(c, bob, {
      ...distributor(c),
      functionName: 'proveLeafAboveTotal',
      args: [n2, 5n, n2, FEES, above.of(n2).proof],
    });
    expect(distributorEvents(proved2, 'EpochVoided')).toEqual([
      { node: n2, epoch: 5n, reason: VoidReason.LeafAboveTotal, by: bob.address, slashed: locked5 },
    ]);
    expect(await stakeOf(c, n2)).toBe(stake2Before - locked5);
    expect(await nodeState(c, n2)).toMatchObject({ epochCount: 5n, finalizedEpoch: 4n });
  });

  it("attack 5: a stranger cannot post into a node's epoch sequence", async () => {
    const c = chain();
    const { node, node2, bob } = cast(c);
    const [n, n2] = [node.address, node2.address];
    // The stranger (another staked validator) posts "epoch 1" first: it is its own epoch 1.
    const strangers = payouts([[n2, 5_000n * OPEN]]);
    const { receipt: s } = await post(c, node2, 1n, strangers);
    expect(distributorEvents(s, 'EpochPosted')[0]?.node).toBe(n2);
    expect((await nodeState(c, n)).epochCount).toBe(0n);
    // The node's epoch 1 posts fine afterwards, and both are pending concurrently.
    const mine = payouts([
      [A, 300n * OPEN],
      [B, 100n * OPEN],
    ]);
    const { receipt: m, finalAt } = await post(c, node, 1n, mine);
    expect(distributorEvents(m, 'EpochPosted')[0]).toMatchObject({ node: n, epoch: 1n, payoutRoot: mine.root });
    expect((await getEpoch(c, n, 1n)).status).toBe(Status.Pending);
    expect((await getEpoch(c, n2, 1n)).status).toBe(Status.Pending);
    // The stranger's root never pays from the node's fees.
    await warpTo(c, finalAt);
    await finalize(c, n, 1n);
    await finalize(c, n2, 1n);
    await expectRevert(claim(c, cast(c).bob, n, n2, strangers), 'InvalidProof', [n2, 5_000n * OPEN]);
    // Both nodes' second epochs, then one claimMany pays A from both nodes in one transaction.
    const mine2 = payouts([
      [A, 400n * OPEN],
      [B, 100n * OPEN],
    ]);
    const theirs2 = payouts([
      [n2, 5_000n * OPEN],
      [A, 50n * OPEN],
    ]);
    const { finalAt: f2 } = await post(c, node, 2n, mine2);
    await post(c, node2, 2n, theirs2);
    await warpTo(c, f2 + 1n);
    await finalize(c, n, 2n);
    await finalize(c, n2, 2n);
    const req = (node: Address, p: Payouts) => ({
      node,
      account: A,
      cumulativeAmount: p.of(A).amount,
      proof: p.of(A).proof,
    });
    const receipt = await send(c, bob, {
      ...distributor(c),
      functionName: 'claimMany',
      args: [[req(n, mine2), req(n2, theirs2)]],
    });
    expect(distributorEvents(receipt, 'Claimed').map((e) => [e.node, e.account, e.amount])).toEqual([
      [n, A, 400n * OPEN],
      [n2, A, 50n * OPEN],
    ]);
    expect(await balanceOf(c, A)).toBe(450n * OPEN);
  });

  it('attack 8: a sock-puppet challenge cannot cut the window short', async () => {
    const c = chain();
    const { node, challenger, puppet } = cast(c);
    const n = node.address;
    const theft = payouts([[n, 5_000n * OPEN]]);
    const { finalAt, locked } = await post(c, node, 1n, theft);
    // The node's puppet challenges at once with nothing; governance rejects it after the original window ended.
    await challenge(c, puppet, n, 1n);
    await warpTo(c, finalAt + 2n * DAY);
    const rejected = await timelockResolves(c, n, 1n, false, payouts([[A, 1n]]), 0n);
    const t = (await c.clients.public.getBlock({ blockNumber: rejected.blockNumber })).timestamp;
    const epoch = await getEpoch(c, n, 1n);
    expect(epoch.status).toBe(Status.Pending);
    expect(epoch.finalAt).toBe(t + DAY);
    // Not final yet: neither finalize nor the node's next post can make it so.
    await expectRevert(finalize(c, n, 1n), 'NotFinal', [n, 1n, Status.Pending, t + DAY]);
    await expectRevert(postEpoch(c, node, 2n, theft.root, theft.total), 'PreviousEpochNotFinal', [
      n,
      1n,
      Status.Pending,
      t + DAY,
    ]);
    // The honest watcher still challenges in the reopened window, and the theft is slashed.
    await warpTo(c, t + DAY - 1n);
    await challenge(c, challenger, n, 1n);
    const upheld = await timelockResolves(c, n, 1n, true, payouts([[A, 5_000n * OPEN]]), 0n);
    expect(stakingEvents(upheld, 'Slashed')[0]?.amount).toBe(locked);
    expect(await stakeOf(c, n)).toBe(MIN_STAKE - locked);
    expect((await nodeState(c, n)).claimRoot).not.toBe(theft.root);
  });
});
