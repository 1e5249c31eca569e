/**
 * Staking: stake (with an approval or a permit), unbonding and withdrawal (every matured request, wherever it is in
 * the queue), slashing into the treasury, locks of stake behind unfinalized epochs (LOCKER_ROLE), parameters with
 * their bounds, and the checkpointed views.
 */
import {
  type Address,
  type HDAccount,
  keccak256,
  maxUint256,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  zeroAddress,
} from 'viem';
import { describe, expect, it } from 'vitest';
import {
  advanceTime,
  contractError,
  deployContract,
  encodeCall,
  OPEN,
  passProposal,
  roleIds,
  StakingArtifact,
  signPermit,
  stakingRoles,
} from '../src/chain/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const { validator, servingNode, agent } = stakingRoles;
type Role = (typeof stakingRoles)[keyof typeof stakingRoles];
const DAY = 86_400n;
/** The deployment's unbonding period (src/chain/parameters.ts staking.unbondingPeriodSeconds). */
const UNBONDING = 21n * DAY;
const MIN_UNBONDING = DAY;
const MINIMUM: Record<Role, bigint> = { 0: 10_000n * OPEN, 1: 1_000n * OPEN, 2: 100n * OPEN };
const reason = (text: string) => keccak256(stringToHex(text));

const users = (c: TestChain, n: number): HDAccount[] => {
  const out = c.users.slice(0, n);
  if (out.length !== n) throw new Error(`only ${c.users.length} users`);
  return out;
};

/** Sends `amount` OPEN from the deployer's liquidity to `who` and (by default) approves Staking for all of it. */
async function fund(c: TestChain, who: HDAccount, amount: bigint, approve = true): Promise<void> {
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
  if (approve) await send(c, who, { ...c.token, functionName: 'approve', args: [c.staking.address, maxUint256] });
}

const stake = (c: TestChain, who: HDAccount, role: Role, amount: bigint) =>
  send(c, who, { ...c.staking, functionName: 'stake', args: [role, amount] });
const requestUnstake = (c: TestChain, who: HDAccount, role: Role, amount: bigint) =>
  send(c, who, { ...c.staking, functionName: 'requestUnstake', args: [role, amount] });
const withdraw = (c: TestChain, who: HDAccount, role: Role) =>
  send(c, who, { ...c.staking, functionName: 'withdraw', args: [role] });
const slash = (c: TestChain, slasher: HDAccount | Address, staker: Address, role: Role, amount: bigint, why = 'test') =>
  send(c, slasher, { ...c.staking, functionName: 'slash', args: [staker, role, amount, reason(why)] });
const lock = (c: TestChain, locker: HDAccount | Address, staker: Address, role: Role, amount: bigint) =>
  send(c, locker, { ...c.staking, functionName: 'lock', args: [staker, role, amount] });
const unlock = (c: TestChain, locker: HDAccount | Address, staker: Address, role: Role, amount: bigint) =>
  send(c, locker, { ...c.staking, functionName: 'unlock', args: [staker, role, amount] });
const lockedOf = (c: TestChain, who: Address, role: Role) =>
  c.clients.public.readContract({ ...c.staking, functionName: 'lockedOf', args: [who, role] });
const lockEvents = (receipt: TransactionReceipt) =>
  parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'StakeLockChanged' }).map((e) => e.args);
const setUnbondingPeriod = async (c: TestChain, seconds: bigint) =>
  send(c, await asTimelock(c), { ...c.staking, functionName: 'setUnbondingPeriod', args: [seconds] });
/** The timelock (treasury, staking admin and slasher), impersonated on anvil. */
const asTimelock = (c: TestChain) => c.impersonate(c.timelock.address);

const balanceOf = (c: TestChain, who: Address) =>
  c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });
const stakeOf = (c: TestChain, who: Address, role: Role) =>
  c.clients.public.readContract({ ...c.staking, functionName: 'stakeOf', args: [who, role] });
const unbondingOf = (c: TestChain, who: Address, role: Role) =>
  c.clients.public.readContract({ ...c.staking, functionName: 'unbondingOf', args: [who, role] });
const unbondingRequests = async (c: TestChain, who: Address, role: Role) =>
  (await c.clients.public.readContract({ ...c.staking, functionName: 'unbondingRequests', args: [who, role] })).map(
    (u) => ({ amount: u.amount, releaseAt: u.releaseAt }),
  );
const isEligible = (c: TestChain, who: Address, role: Role) =>
  c.clients.public.readContract({ ...c.staking, functionName: 'isEligible', args: [who, role] });
const totals = async (c: TestChain) => ({
  active: await c.clients.public.readContract({ ...c.staking, functionName: 'totalActive' }),
  unbonding: await c.clients.public.readContract({ ...c.staking, functionName: 'totalUnbonding' }),
});
const blockTime = async (c: TestChain, receipt?: TransactionReceipt) =>
  (await c.clients.public.getBlock(receipt ? { blockNumber: receipt.blockNumber } : {})).timestamp;
/** A view call whose revert surfaces as CONTRACT_REVERTED, like a transaction's would. */
const viewCall = <T>(p: Promise<T>, label: string): Promise<T> =>
  p.catch((e: unknown) => {
    throw contractError(e, label, StakingArtifact.abi);
  });

describe('Staking: deployment', () => {
  it('is wired to OPEN with the timelock as treasury, admin and slasher; the deployer holds nothing', async () => {
    const c = chain();
    const read = <T>(functionName: string, args: readonly unknown[] = []) =>
      c.clients.public.readContract({ ...c.staking, functionName, args } as never) as Promise<T>;
    expect(await read<Address>('token')).toBe(c.token.address);
    expect(await read<Address>('treasury')).toBe(c.timelock.address);
    expect(await read<bigint>('unbondingPeriod')).toBe(UNBONDING);
    expect(await read<bigint>('minimumStake', [validator])).toBe(10_000n * OPEN);
    expect(await read<bigint>('minimumStake', [servingNode])).toBe(1_000n * OPEN);
    expect(await read<bigint>('minimumStake', [agent])).toBe(100n * OPEN);
    expect(await read<bigint>('MAX_PENDING_UNBONDINGS')).toBe(32n);
    expect(await read<bigint>('MAX_UNBONDING_PERIOD')).toBe(365n * DAY);
    expect(await read<bigint>('MIN_UNBONDING_PERIOD')).toBe(MIN_UNBONDING);
    expect(await read<string>('CLOCK_MODE')).toBe('mode=timestamp');
    expect(await read<string>('SLASHER_ROLE')).toBe(roleIds.SLASHER);
    expect(await read<string>('LOCKER_ROLE')).toBe(roleIds.LOCKER);
    const hasRole = (role: `0x${string}`, who: Address) => read<boolean>('hasRole', [role, who]);
    expect(await hasRole(roleIds.DEFAULT_ADMIN, c.timelock.address)).toBe(true);
    expect(await hasRole(roleIds.SLASHER, c.timelock.address)).toBe(true);
    expect(await hasRole(roleIds.DEFAULT_ADMIN, c.deployer.address)).toBe(false);
    expect(await hasRole(roleIds.SLASHER, c.deployer.address)).toBe(false);
    expect(await hasRole(roleIds.DEFAULT_ADMIN, c.governor.address)).toBe(false);
    expect(await hasRole(roleIds.SLASHER, c.governor.address)).toBe(false);
    // The reward distributor locks stake behind unfinalized epochs and slashes lost disputes; nobody else locks.
    const distributor = c.deployment.contracts.RewardDistributor;
    expect(await hasRole(roleIds.LOCKER, distributor)).toBe(true);
    expect(await hasRole(roleIds.SLASHER, distributor)).toBe(true);
    for (const who of [c.timelock.address, c.deployer.address, c.governor.address])
      expect(await hasRole(roleIds.LOCKER, who)).toBe(false);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
    expect(await balanceOf(c, c.staking.address)).toBe(0n);
  });
});

describe('Staking: stake', () => {
  it('stakes the minimum for each role, emitting Staked and counting the staker', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    let sum = 0n;
    for (const role of [validator, servingNode, agent] as const) {
      const receipt = await stake(c, user, role, MINIMUM[role]);
      sum += MINIMUM[role];
      const [event, ...rest] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Staked' });
      expect(rest).toHaveLength(0);
      expect(event?.address).toBe(c.staking.address.toLowerCase());
      expect(event?.args).toEqual({ staker: user.address, role, amount: MINIMUM[role], activeAfter: MINIMUM[role] });
      expect(await stakeOf(c, user.address, role)).toBe(MINIMUM[role]);
      expect(await isEligible(c, user.address, role)).toBe(true);
      expect(await c.clients.public.readContract({ ...c.staking, functionName: 'totalStake', args: [role] })).toBe(
        MINIMUM[role],
      );
      expect(await c.clients.public.readContract({ ...c.staking, functionName: 'stakerCount', args: [role] })).toBe(1n);
    }
    expect(await totals(c)).toEqual({ active: sum, unbonding: 0n });
    expect(await balanceOf(c, c.staking.address)).toBe(sum);
    expect(await balanceOf(c, user.address)).toBe(20_000n * OPEN - sum);
  });

  it('adds to an existing stake: a top-up below the minimum is fine once the total is above it', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 10_000n * OPEN);
    const receipt = await stake(c, user, validator, 1n);
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Staked' });
    expect(event?.args.amount).toBe(1n);
    expect(event?.args.activeAfter).toBe(10_000n * OPEN + 1n);
    expect(await stakeOf(c, user.address, validator)).toBe(10_000n * OPEN + 1n);
  });

  it('refuses a zero stake', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    const err = await expectRevert(stake(c, user, agent, 0n), 'ZeroAmount', []);
    expect(err.message).toBe('Staking.stake reverted with ZeroAmount()');
  });

  it('refuses a stake below the role minimum, naming role, result and minimum', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    for (const role of [validator, servingNode, agent] as const)
      await expectRevert(stake(c, user, role, MINIMUM[role] - 1n), 'BelowMinimumStake', [
        role,
        MINIMUM[role] - 1n,
        MINIMUM[role],
      ]);
    const err = await expectRevert(stake(c, user, agent, 5n), 'BelowMinimumStake');
    expect(err.message).toBe('Staking.stake reverted with BelowMinimumStake(2, "5", "100000000000000000000")');
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
  });

  it('needs an allowance (or a permit) and a balance', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 200n * OPEN, false);
    await expectRevert(stake(c, user, agent, 100n * OPEN), 'ERC20InsufficientAllowance', [
      c.staking.address,
      0n,
      100n * OPEN,
    ]);
    await send(c, user, { ...c.token, functionName: 'approve', args: [c.staking.address, maxUint256] });
    await expectRevert(stake(c, user, agent, 300n * OPEN), 'ERC20InsufficientBalance', [
      user.address,
      200n * OPEN,
      300n * OPEN,
    ]);
  });

  describe('stakeWithPermit', () => {
    const permit = async (c: TestChain, owner: HDAccount, value: bigint, deadline: bigint) => {
      const nonce = await c.clients.public.readContract({ ...c.token, functionName: 'nonces', args: [owner.address] });
      const [, , , , v, r, s] = await signPermit(owner, {
        chainId: c.clients.chain.id,
        token: c.token.address,
        spender: c.staking.address,
        value,
        nonce,
        deadline,
      });
      return { v, r, s };
    };

    it('stakes in one transaction without a prior approval', async () => {
      const c = chain();
      const [user] = users(c, 1) as [HDAccount];
      await fund(c, user, 2_000n * OPEN, false);
      const deadline = (await blockTime(c)) + 3600n;
      const { v, r, s } = await permit(c, user, 1_500n * OPEN, deadline);
      const receipt = await send(c, user, {
        ...c.staking,
        functionName: 'stakeWithPermit',
        args: [servingNode, 1_500n * OPEN, deadline, v, r, s],
      });
      const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Staked' });
      expect(event?.args).toEqual({
        staker: user.address,
        role: servingNode,
        amount: 1_500n * OPEN,
        activeAfter: 1_500n * OPEN,
      });
      expect(await stakeOf(c, user.address, servingNode)).toBe(1_500n * OPEN);
      expect(await balanceOf(c, user.address)).toBe(500n * OPEN);
      expect(await c.clients.public.readContract({ ...c.token, functionName: 'nonces', args: [user.address] })).toBe(
        1n,
      );
      expect(
        await c.clients.public.readContract({
          ...c.token,
          functionName: 'allowance',
          args: [user.address, c.staking.address],
        }),
      ).toBe(0n);
    });

    it('still stakes when someone front-ran the permit (the allowance exists)', async () => {
      const c = chain();
      const [user, frontRunner] = users(c, 2) as [HDAccount, HDAccount];
      await fund(c, user, 2_000n * OPEN, false);
      const deadline = (await blockTime(c)) + 3600n;
      const { v, r, s } = await permit(c, user, 1_000n * OPEN, deadline);
      await send(c, frontRunner, {
        ...c.token,
        functionName: 'permit',
        args: [user.address, c.staking.address, 1_000n * OPEN, deadline, v, r, s],
      });
      await send(c, user, {
        ...c.staking,
        functionName: 'stakeWithPermit',
        args: [servingNode, 1_000n * OPEN, deadline, v, r, s],
      });
      expect(await stakeOf(c, user.address, servingNode)).toBe(1_000n * OPEN);
    });

    it('fails on the transfer when the permit is invalid and there is no allowance', async () => {
      const c = chain();
      const [user] = users(c, 1) as [HDAccount];
      await fund(c, user, 2_000n * OPEN, false);
      const expired = (await blockTime(c)) - 1n;
      const { v, r, s } = await permit(c, user, 1_000n * OPEN, expired);
      await expectRevert(
        send(c, user, {
          ...c.staking,
          functionName: 'stakeWithPermit',
          args: [servingNode, 1_000n * OPEN, expired, v, r, s],
        }),
        'ERC20InsufficientAllowance',
        [c.staking.address, 0n, 1_000n * OPEN],
      );
    });
  });
});

describe('Staking: unstake and withdraw', () => {
  it('refuses a zero request, more than the active stake, and a remainder below the minimum', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await expectRevert(requestUnstake(c, user, validator, 1n), 'InsufficientStake', [1n, 0n]);
    await stake(c, user, validator, 12_000n * OPEN);
    await expectRevert(requestUnstake(c, user, validator, 0n), 'ZeroAmount', []);
    const err = await expectRevert(requestUnstake(c, user, validator, 12_000n * OPEN + 1n), 'InsufficientStake', [
      12_000n * OPEN + 1n,
      12_000n * OPEN,
    ]);
    expect(err.message).toBe(
      'Staking.requestUnstake reverted with InsufficientStake("12000000000000000000001", "12000000000000000000000")',
    );
    await expectRevert(requestUnstake(c, user, validator, 2_000n * OPEN + 1n), 'BelowMinimumStake', [
      validator,
      10_000n * OPEN - 1n,
      10_000n * OPEN,
    ]);
    // Another role's stake is separate.
    await expectRevert(requestUnstake(c, user, agent, 1n), 'InsufficientStake', [1n, 0n]);
    // Down to exactly the minimum, or all of it, is allowed.
    await requestUnstake(c, user, validator, 2_000n * OPEN);
    expect(await stakeOf(c, user.address, validator)).toBe(10_000n * OPEN);
    await requestUnstake(c, user, validator, 10_000n * OPEN);
    expect(await stakeOf(c, user.address, validator)).toBe(0n);
    expect(await unbondingOf(c, user.address, validator)).toBe(12_000n * OPEN);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 12_000n * OPEN });
    expect(await balanceOf(c, c.staking.address)).toBe(12_000n * OPEN);
  });

  it('moves stake to unbonding (releaseAt = now + 21 days) and returns it only after the period', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, servingNode, 5_000n * OPEN);
    const receipt = await requestUnstake(c, user, servingNode, 5_000n * OPEN);
    const requestedAt = await blockTime(c, receipt);
    const releaseAt = requestedAt + UNBONDING;
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'UnstakeRequested' });
    expect(event?.args).toEqual({
      staker: user.address,
      role: servingNode,
      amount: 5_000n * OPEN,
      releaseAt,
      activeAfter: 0n,
    });
    expect(await stakeOf(c, user.address, servingNode)).toBe(0n);
    expect(await isEligible(c, user.address, servingNode)).toBe(false);
    expect(
      await c.clients.public.readContract({ ...c.staking, functionName: 'stakerCount', args: [servingNode] }),
    ).toBe(0n);
    expect(await unbondingOf(c, user.address, servingNode)).toBe(5_000n * OPEN);
    expect(await unbondingRequests(c, user.address, servingNode)).toEqual([{ amount: 5_000n * OPEN, releaseAt }]);

    const err = await expectRevert(withdraw(c, user, servingNode), 'NothingToWithdraw', [
      user.address,
      servingNode,
      releaseAt,
    ]);
    expect(err.message).toBe(
      `Staking.withdraw reverted with NothingToWithdraw("${user.address}", 1, "${releaseAt.toString()}")`,
    );
    await warpTo(c, releaseAt - 1n);
    await expectRevert(withdraw(c, user, servingNode), 'NothingToWithdraw', [user.address, servingNode, releaseAt]);
    await warpTo(c, releaseAt);

    const { result } = await c.clients.public.simulateContract({
      ...c.staking,
      functionName: 'withdraw',
      args: [servingNode],
      account: user,
    });
    expect(result).toBe(5_000n * OPEN);
    const before = await balanceOf(c, user.address);
    const w = await withdraw(c, user, servingNode);
    const [withdrawn] = parseEventLogs({ abi: StakingArtifact.abi, logs: w.logs, eventName: 'Withdrawn' });
    expect(withdrawn?.args).toEqual({ staker: user.address, role: servingNode, amount: 5_000n * OPEN });
    expect(await balanceOf(c, user.address)).toBe(before + 5_000n * OPEN);
    expect(await unbondingOf(c, user.address, servingNode)).toBe(0n);
    expect(await unbondingRequests(c, user.address, servingNode)).toEqual([]);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
    expect(await balanceOf(c, c.staking.address)).toBe(0n);
    // Nothing left: the next release time is reported as 0.
    await expectRevert(withdraw(c, user, servingNode), 'NothingToWithdraw', [user.address, servingNode, 0n]);
  });

  it('refuses a withdrawal with nothing pending', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await expectRevert(withdraw(c, user, validator), 'NothingToWithdraw', [user.address, validator, 0n]);
    await fund(c, user, 200n * OPEN);
    await stake(c, user, agent, 200n * OPEN);
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, 0n]);
  });

  it('withdraws several requests oldest first, each only once matured', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, agent, 1_000n * OPEN);
    const releases: bigint[] = [];
    for (const amount of [100n, 200n, 300n]) {
      const r = await requestUnstake(c, user, agent, amount * OPEN);
      releases.push((await blockTime(c, r)) + UNBONDING);
      await advanceTime(c.clients, Number(DAY));
    }
    const [r1, r2, r3] = releases as [bigint, bigint, bigint];
    expect(await unbondingRequests(c, user.address, agent)).toEqual([
      { amount: 100n * OPEN, releaseAt: r1 },
      { amount: 200n * OPEN, releaseAt: r2 },
      { amount: 300n * OPEN, releaseAt: r3 },
    ]);
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, r1]);

    await warpTo(c, r1);
    let w = await withdraw(c, user, agent);
    expect(parseEventLogs({ abi: StakingArtifact.abi, logs: w.logs, eventName: 'Withdrawn' })[0]?.args.amount).toBe(
      100n * OPEN,
    );
    expect(await unbondingRequests(c, user.address, agent)).toEqual([
      { amount: 200n * OPEN, releaseAt: r2 },
      { amount: 300n * OPEN, releaseAt: r3 },
    ]);
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, r2]);

    await warpTo(c, r3 + 1n);
    w = await withdraw(c, user, agent);
    expect(parseEventLogs({ abi: StakingArtifact.abi, logs: w.logs, eventName: 'Withdrawn' })[0]?.args.amount).toBe(
      500n * OPEN,
    );
    expect(await unbondingRequests(c, user.address, agent)).toEqual([]);
    expect(await stakeOf(c, user.address, agent)).toBe(400n * OPEN);
    expect(await balanceOf(c, user.address)).toBe(600n * OPEN);
    expect(await totals(c)).toEqual({ active: 400n * OPEN, unbonding: 0n });
  });

  it('bounds pending requests at 32 per staker and role; withdrawing frees slots', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, agent, 1_000n * OPEN);
    for (let i = 0; i < 32; i++) await requestUnstake(c, user, agent, OPEN);
    const err = await expectRevert(requestUnstake(c, user, agent, OPEN), 'TooManyPendingUnbondings', [32n]);
    expect(err.message).toBe('Staking.requestUnstake reverted with TooManyPendingUnbondings("32")');
    expect(await unbondingRequests(c, user.address, agent)).toHaveLength(32);
    await advanceTime(c.clients, Number(UNBONDING) + 1);
    await withdraw(c, user, agent);
    expect(await unbondingRequests(c, user.address, agent)).toEqual([]);
    await requestUnstake(c, user, agent, OPEN);
    expect(await unbondingRequests(c, user.address, agent)).toHaveLength(1);
    expect(await stakeOf(c, user.address, agent)).toBe(967n * OPEN);
  });

  it('applies a new unbonding period to new requests only', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, agent, 1_000n * OPEN);
    const first = await requestUnstake(c, user, agent, 100n * OPEN);
    const firstRelease = (await blockTime(c, first)) + UNBONDING;
    await setUnbondingPeriod(c, 30n * DAY);
    const second = await requestUnstake(c, user, agent, 100n * OPEN);
    const secondRelease = (await blockTime(c, second)) + 30n * DAY;
    expect(await unbondingRequests(c, user.address, agent)).toEqual([
      { amount: 100n * OPEN, releaseAt: firstRelease },
      { amount: 100n * OPEN, releaseAt: secondRelease },
    ]);
    await warpTo(c, firstRelease);
    await withdraw(c, user, agent);
    expect(await balanceOf(c, user.address)).toBe(100n * OPEN);
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, secondRelease]);
    await warpTo(c, secondRelease);
    await withdraw(c, user, agent);
    expect(await balanceOf(c, user.address)).toBe(200n * OPEN);
  });

  it('attack 8: a shortened unbonding period cannot block the withdrawal queue', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, agent, 1_000n * OPEN);
    // A request under the long period (the default 21 days)...
    const first = await requestUnstake(c, user, agent, 100n * OPEN);
    const firstRelease = (await blockTime(c, first)) + UNBONDING;
    // ...then governance shortens the period (to its minimum), and a second request matures long before the first.
    const set = await setUnbondingPeriod(c, MIN_UNBONDING);
    expect(
      parseEventLogs({ abi: StakingArtifact.abi, logs: set.logs, eventName: 'UnbondingPeriodSet' }).map((e) => e.args),
    ).toEqual([{ secondsToUnbond: MIN_UNBONDING }]);
    const second = await requestUnstake(c, user, agent, 200n * OPEN);
    const secondRelease = (await blockTime(c, second)) + MIN_UNBONDING;
    expect(secondRelease).toBeLessThan(firstRelease);
    // Nothing matured yet: the refusal names the earliest release, the second request's.
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, secondRelease]);
    await warpTo(c, secondRelease);
    // The matured second request is withdrawable although the first, ahead of it in the queue, is not.
    const w = await withdraw(c, user, agent);
    expect(
      parseEventLogs({ abi: StakingArtifact.abi, logs: w.logs, eventName: 'Withdrawn' }).map((e) => e.args),
    ).toEqual([{ staker: user.address, role: agent, amount: 200n * OPEN }]);
    expect(await balanceOf(c, user.address)).toBe(200n * OPEN);
    expect(await unbondingOf(c, user.address, agent)).toBe(100n * OPEN);
    expect(await unbondingRequests(c, user.address, agent)).toEqual([{ amount: 100n * OPEN, releaseAt: firstRelease }]);
    expect(await totals(c)).toEqual({ active: 700n * OPEN, unbonding: 100n * OPEN });
    // The first is withdrawn on its own schedule, exactly once.
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, firstRelease]);
    await warpTo(c, firstRelease);
    await withdraw(c, user, agent);
    expect(await balanceOf(c, user.address)).toBe(300n * OPEN);
    expect(await unbondingRequests(c, user.address, agent)).toEqual([]);
    expect(await totals(c)).toEqual({ active: 700n * OPEN, unbonding: 0n });
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, 0n]);
  });

  it('withdraws matured requests out of order, lists only pending ones, and still slashes the newest first', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, agent, 1_000n * OPEN);
    // a: 21 days, b: 1 day, c: 21 days, d: 1 day — b and d mature first and leave holes between a and c.
    const at = async (amount: bigint, period: bigint) => {
      await setUnbondingPeriod(c, period);
      return (await blockTime(c, await requestUnstake(c, user, agent, amount * OPEN))) + period;
    };
    const ra = await at(100n, UNBONDING);
    const rb = await at(200n, DAY);
    const rc = await at(300n, UNBONDING);
    const rd = await at(50n, DAY);
    expect(rb < ra && rd < ra).toBe(true);
    await expectRevert(withdraw(c, user, agent), 'NothingToWithdraw', [user.address, agent, rb]);
    await warpTo(c, rd);
    const w = await withdraw(c, user, agent);
    expect(parseEventLogs({ abi: StakingArtifact.abi, logs: w.logs, eventName: 'Withdrawn' })[0]?.args.amount).toBe(
      250n * OPEN,
    );
    expect(await unbondingRequests(c, user.address, agent)).toEqual([
      { amount: 100n * OPEN, releaseAt: ra },
      { amount: 300n * OPEN, releaseAt: rc },
    ]);
    // A slash past the active stake takes the newest pending request (c) first, stepping over the holes.
    const tl = await asTimelock(c);
    const receipt = await slash(c, tl, user.address, agent, 350n * OPEN + 50n * OPEN);
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(event?.args).toMatchObject({ fromActive: 350n * OPEN, fromUnbonding: 50n * OPEN });
    expect(await unbondingRequests(c, user.address, agent)).toEqual([
      { amount: 100n * OPEN, releaseAt: ra },
      { amount: 250n * OPEN, releaseAt: rc },
    ]);
    await warpTo(c, rc);
    await withdraw(c, user, agent);
    expect(await balanceOf(c, user.address)).toBe(600n * OPEN);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
    expect(await balanceOf(c, c.staking.address)).toBe(0n);
  });
});

describe('Staking: slashing', () => {
  it('lets only a slasher slash', async () => {
    const c = chain();
    const [user, stranger] = users(c, 2) as [HDAccount, HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 10_000n * OPEN);
    for (const who of [stranger, user, c.deployer]) {
      await expectRevert(slash(c, who, user.address, validator, OPEN), 'AccessControlUnauthorizedAccount', [
        who.address,
        roleIds.SLASHER,
      ]);
    }
    await expectRevert(
      slash(c, c.governor.address, user.address, validator, OPEN),
      'AccessControlUnauthorizedAccount',
      [c.governor.address, roleIds.SLASHER],
    );
    expect(await stakeOf(c, user.address, validator)).toBe(10_000n * OPEN);
  });

  it('refuses a zero slash and one above active + unbonding stake', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    const tl = await asTimelock(c);
    await expectRevert(slash(c, tl, user.address, validator, 1n), 'SlashExceedsStake', [
      user.address,
      validator,
      1n,
      0n,
    ]);
    await stake(c, user, validator, 15_000n * OPEN);
    await requestUnstake(c, user, validator, 4_000n * OPEN);
    await expectRevert(slash(c, tl, user.address, validator, 0n), 'ZeroAmount', []);
    const err = await expectRevert(slash(c, tl, user.address, validator, 15_000n * OPEN + 1n), 'SlashExceedsStake', [
      user.address,
      validator,
      15_000n * OPEN + 1n,
      15_000n * OPEN,
    ]);
    expect(err.message).toBe(
      `Staking.slash reverted with SlashExceedsStake("${user.address}", 0, "15000000000000000000001", "15000000000000000000000")`,
    );
    // Another role's stake does not count.
    await expectRevert(slash(c, tl, user.address, agent, 1n), 'SlashExceedsStake', [user.address, agent, 1n, 0n]);
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'slashableOf',
        args: [user.address, validator],
      }),
    ).toBe(15_000n * OPEN);
  });

  it('takes active stake first, then unbonding stake newest first, and sends it to the treasury', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 20_000n * OPEN);
    const a = await requestUnstake(c, user, validator, 3_000n * OPEN);
    await advanceTime(c.clients, 3600);
    const b = await requestUnstake(c, user, validator, 2_000n * OPEN);
    const ra = (await blockTime(c, a)) + UNBONDING;
    const rb = (await blockTime(c, b)) + UNBONDING;
    const tl = await asTimelock(c);
    const treasuryBefore = await balanceOf(c, c.timelock.address);

    // 16,000 = all 15,000 active + 1,000 of the newest request.
    let receipt = await slash(c, tl, user.address, validator, 16_000n * OPEN, 'double signing, epoch 7');
    let [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(event?.args).toEqual({
      staker: user.address,
      role: validator,
      amount: 16_000n * OPEN,
      fromActive: 15_000n * OPEN,
      fromUnbonding: 1_000n * OPEN,
      reasonHash: reason('double signing, epoch 7'),
      slasher: c.timelock.address,
    });
    expect(await stakeOf(c, user.address, validator)).toBe(0n);
    expect(await isEligible(c, user.address, validator)).toBe(false);
    expect(await unbondingOf(c, user.address, validator)).toBe(4_000n * OPEN);
    expect(await unbondingRequests(c, user.address, validator)).toEqual([
      { amount: 3_000n * OPEN, releaseAt: ra },
      { amount: 1_000n * OPEN, releaseAt: rb },
    ]);
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'stakerCount', args: [validator] })).toBe(
      0n,
    );

    // 1,500 = the rest of the newest request (dropped) + 500 of the oldest.
    receipt = await slash(c, tl, user.address, validator, 1_500n * OPEN, 'second offence');
    [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(event?.args.fromActive).toBe(0n);
    expect(event?.args.fromUnbonding).toBe(1_500n * OPEN);
    expect(await unbondingRequests(c, user.address, validator)).toEqual([{ amount: 2_500n * OPEN, releaseAt: ra }]);

    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + 17_500n * OPEN);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 2_500n * OPEN });
    expect(await balanceOf(c, c.staking.address)).toBe(2_500n * OPEN);

    // What is left still unbonds normally.
    await warpTo(c, rb);
    await withdraw(c, user, validator);
    expect(await balanceOf(c, user.address)).toBe(2_500n * OPEN);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
  });

  it('slashes part of the active stake only, keeping the staker listed', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 12_000n * OPEN);
    await requestUnstake(c, user, validator, 1_000n * OPEN);
    const tl = await asTimelock(c);
    const receipt = await slash(c, tl, user.address, validator, 5_000n * OPEN);
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
    expect(event?.args.fromActive).toBe(5_000n * OPEN);
    expect(event?.args.fromUnbonding).toBe(0n);
    expect(await stakeOf(c, user.address, validator)).toBe(6_000n * OPEN);
    expect(await unbondingOf(c, user.address, validator)).toBe(1_000n * OPEN);
    // Below the minimum now: listed but not eligible, and can only leave entirely.
    expect(await isEligible(c, user.address, validator)).toBe(false);
    expect(
      await c.clients.public.readContract({ ...c.staking, functionName: 'stakers', args: [validator, 0n, 10n] }),
    ).toEqual([user.address]);
    await expectRevert(requestUnstake(c, user, validator, OPEN), 'BelowMinimumStake', [
      validator,
      5_999n * OPEN,
      10_000n * OPEN,
    ]);
    await requestUnstake(c, user, validator, 6_000n * OPEN);
  });

  it('records the slasher and the reason hash for a slasher granted the role by governance', async () => {
    const c = chain();
    const [user, dispute] = users(c, 2) as [HDAccount, HDAccount];
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, servingNode, 1_000n * OPEN);
    const tl = await asTimelock(c);
    await send(c, tl, { ...c.staking, functionName: 'grantRole', args: [roleIds.SLASHER, dispute.address] });
    const why = keccak256(stringToHex('receipt 0xabc disputed'));
    const receipt = await send(c, dispute, {
      ...c.staking,
      functionName: 'slash',
      args: [user.address, servingNode, 250n * OPEN, why],
    });
    const [event] = parseEventLogs({
      abi: StakingArtifact.abi,
      logs: receipt.logs,
      eventName: 'Slashed',
      args: { reasonHash: why },
    });
    expect(event?.args.slasher).toBe(dispute.address);
    expect(event?.args.staker).toBe(user.address);
    expect(event?.args.amount).toBe(250n * OPEN);
    expect(await stakeOf(c, user.address, servingNode)).toBe(750n * OPEN);
  });

  it('slashes through a full governance proposal, into the treasury', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 20_000n * OPEN);
    const treasuryBefore = await balanceOf(c, c.timelock.address);
    const why = reason('governance: validator equivocated in epoch 12');
    const { receipts } = await passProposal({
      clients: c.clients,
      deployment: c.deployment,
      proposer: c.investor,
      voters: [c.investor, c.team],
      actions: [
        {
          target: c.staking.address,
          data: encodeCall(StakingArtifact.abi, 'slash', [user.address, validator, 7_500n * OPEN, why]),
        },
      ],
      description: 'Slash a validator for equivocation',
    });
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipts.execute.logs, eventName: 'Slashed' });
    expect(event?.args).toEqual({
      staker: user.address,
      role: validator,
      amount: 7_500n * OPEN,
      fromActive: 7_500n * OPEN,
      fromUnbonding: 0n,
      reasonHash: why,
      slasher: c.timelock.address,
    });
    expect(await stakeOf(c, user.address, validator)).toBe(12_500n * OPEN);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + 7_500n * OPEN);
  });
});

describe('Staking: locks', () => {
  /** A staker with 5,000 OPEN serving-node stake and a locker granted LOCKER_ROLE by the timelock. */
  async function setup(c: TestChain) {
    const [user, locker, stranger] = users(c, 3) as [HDAccount, HDAccount, HDAccount];
    await fund(c, user, 5_000n * OPEN);
    await stake(c, user, servingNode, 5_000n * OPEN);
    const tl = await asTimelock(c);
    await send(c, tl, { ...c.staking, functionName: 'grantRole', args: [roleIds.LOCKER, locker.address] });
    return { user, locker, stranger, tl };
  }

  it('only LOCKER_ROLE locks and unlocks (not the staker, the admin, the slasher or the governor)', async () => {
    const c = chain();
    const { user, locker, stranger, tl } = await setup(c);
    for (const who of [stranger, user, c.deployer, tl, c.governor.address]) {
      const address = typeof who === 'string' ? who : who.address;
      await expectRevert(lock(c, who, user.address, servingNode, OPEN), 'AccessControlUnauthorizedAccount', [
        address,
        roleIds.LOCKER,
      ]);
      await expectRevert(unlock(c, who, user.address, servingNode, OPEN), 'AccessControlUnauthorizedAccount', [
        address,
        roleIds.LOCKER,
      ]);
    }
    expect(await lockedOf(c, user.address, servingNode)).toBe(0n);
    await lock(c, locker, user.address, servingNode, OPEN);
    expect(await lockedOf(c, user.address, servingNode)).toBe(OPEN);
    // The distributor holds the role from the deployment.
    const distributor = await c.impersonate(c.deployment.contracts.RewardDistributor);
    await unlock(c, distributor, user.address, servingNode, OPEN);
    expect(await lockedOf(c, user.address, servingNode)).toBe(0n);
  });

  it('locks up to the unlocked active stake with StakeLockChanged; more is InsufficientUnlockedStake', async () => {
    const c = chain();
    const { user, locker } = await setup(c);
    let receipt = await lock(c, locker, user.address, servingNode, 3_000n * OPEN);
    expect(lockEvents(receipt)).toEqual([
      {
        staker: user.address,
        role: servingNode,
        delta: 3_000n * OPEN,
        lockedAfter: 3_000n * OPEN,
        locker: locker.address,
      },
    ]);
    const err = await expectRevert(
      lock(c, locker, user.address, servingNode, 2_000n * OPEN + 1n),
      'InsufficientUnlockedStake',
      [user.address, servingNode, 2_000n * OPEN + 1n, 2_000n * OPEN],
    );
    expect(err.message).toBe(
      `Staking.lock reverted with InsufficientUnlockedStake("${user.address}", 1, "2000000000000000000001", "2000000000000000000000")`,
    );
    receipt = await lock(c, locker, user.address, servingNode, 2_000n * OPEN);
    expect(lockEvents(receipt)).toEqual([
      {
        staker: user.address,
        role: servingNode,
        delta: 2_000n * OPEN,
        lockedAfter: 5_000n * OPEN,
        locker: locker.address,
      },
    ]);
    await expectRevert(lock(c, locker, user.address, servingNode, 1n), 'InsufficientUnlockedStake', [
      user.address,
      servingNode,
      1n,
      0n,
    ]);
    // Another role's stake, and a staker with none, have nothing to lock; a zero lock is a no-op without an event.
    await expectRevert(lock(c, locker, user.address, agent, 1n), 'InsufficientUnlockedStake', [
      user.address,
      agent,
      1n,
      0n,
    ]);
    expect(lockEvents(await lock(c, locker, user.address, agent, 0n))).toEqual([]);
    expect(await lockedOf(c, user.address, servingNode)).toBe(5_000n * OPEN);
    expect(await lockedOf(c, user.address, agent)).toBe(0n);
  });

  it('locked stake cannot be unstaked (StakeLocked); the unlocked rest can, and all of it once unlocked', async () => {
    const c = chain();
    const { user, locker } = await setup(c);
    await lock(c, locker, user.address, servingNode, 3_000n * OPEN);
    // Leaving entirely, or dipping one wei into the lock, is refused.
    const err = await expectRevert(requestUnstake(c, user, servingNode, 5_000n * OPEN), 'StakeLocked', [
      user.address,
      servingNode,
      3_000n * OPEN,
      0n,
    ]);
    expect(err.message).toBe(
      `Staking.requestUnstake reverted with StakeLocked("${user.address}", 1, "3000000000000000000000", "0")`,
    );
    await expectRevert(requestUnstake(c, user, servingNode, 2_000n * OPEN + 1n), 'StakeLocked', [
      user.address,
      servingNode,
      3_000n * OPEN,
      3_000n * OPEN - 1n,
    ]);
    await requestUnstake(c, user, servingNode, 2_000n * OPEN);
    expect(await stakeOf(c, user.address, servingNode)).toBe(3_000n * OPEN);
    await expectRevert(requestUnstake(c, user, servingNode, 1n), 'StakeLocked', [
      user.address,
      servingNode,
      3_000n * OPEN,
      3_000n * OPEN - 1n,
    ]);
    // Unlocking frees it step by step; unlocking more than is locked unlocks what there is.
    let receipt = await unlock(c, locker, user.address, servingNode, 1_000n * OPEN);
    expect(lockEvents(receipt)).toEqual([
      {
        staker: user.address,
        role: servingNode,
        delta: -1_000n * OPEN,
        lockedAfter: 2_000n * OPEN,
        locker: locker.address,
      },
    ]);
    await requestUnstake(c, user, servingNode, 1_000n * OPEN);
    receipt = await unlock(c, locker, user.address, servingNode, maxUint256);
    expect(lockEvents(receipt)).toEqual([
      { staker: user.address, role: servingNode, delta: -2_000n * OPEN, lockedAfter: 0n, locker: locker.address },
    ]);
    expect(lockEvents(await unlock(c, locker, user.address, servingNode, OPEN))).toEqual([]);
    await requestUnstake(c, user, servingNode, 2_000n * OPEN);
    expect(await stakeOf(c, user.address, servingNode)).toBe(0n);
    expect(await unbondingOf(c, user.address, servingNode)).toBe(5_000n * OPEN);
  });

  it('a slash takes locked stake and clamps the lock to the active stake left', async () => {
    const c = chain();
    const { user, locker, tl } = await setup(c);
    await lock(c, locker, user.address, servingNode, 4_000n * OPEN);
    const treasuryBefore = await balanceOf(c, c.timelock.address);
    // Locked stake is no shield: the slash lands in full and the lock shrinks to what is left.
    const receipt = await slash(c, tl, user.address, servingNode, 3_000n * OPEN);
    expect(
      parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' })[0]?.args,
    ).toMatchObject({ amount: 3_000n * OPEN, fromActive: 3_000n * OPEN, fromUnbonding: 0n });
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + 3_000n * OPEN);
    expect(await stakeOf(c, user.address, servingNode)).toBe(2_000n * OPEN);
    expect(await lockedOf(c, user.address, servingNode)).toBe(2_000n * OPEN);
    expect(lockEvents(receipt)).toEqual([
      { staker: user.address, role: servingNode, delta: -2_000n * OPEN, lockedAfter: 2_000n * OPEN, locker: tl },
    ]);
    await expectRevert(requestUnstake(c, user, servingNode, 1n), 'StakeLocked', [
      user.address,
      servingNode,
      2_000n * OPEN,
      2_000n * OPEN - 1n,
    ]);
    // A slash that leaves more active stake than is locked leaves the lock alone.
    await unlock(c, locker, user.address, servingNode, 1_500n * OPEN);
    await slash(c, tl, user.address, servingNode, 1_000n * OPEN);
    expect(await lockedOf(c, user.address, servingNode)).toBe(500n * OPEN);
    // Slashing everything clears the lock; the locker's later unlock of its old amount is harmless.
    await slash(c, tl, user.address, servingNode, 1_000n * OPEN);
    expect(await lockedOf(c, user.address, servingNode)).toBe(0n);
    expect(lockEvents(await unlock(c, locker, user.address, servingNode, 4_000n * OPEN))).toEqual([]);
    expect(await balanceOf(c, c.timelock.address)).toBe(treasuryBefore + 5_000n * OPEN);
    expect(await totals(c)).toEqual({ active: 0n, unbonding: 0n });
  });
});

describe('Staking: parameters', () => {
  it('refuses parameter changes from anyone but the admin (the timelock)', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    for (const who of [user, c.deployer]) {
      const denied = [who.address, roleIds.DEFAULT_ADMIN];
      await expectRevert(
        send(c, who, { ...c.staking, functionName: 'setMinimumStake', args: [validator, 1n] }),
        'AccessControlUnauthorizedAccount',
        denied,
      );
      await expectRevert(
        send(c, who, { ...c.staking, functionName: 'setUnbondingPeriod', args: [DAY] }),
        'AccessControlUnauthorizedAccount',
        denied,
      );
      await expectRevert(
        send(c, who, { ...c.staking, functionName: 'setTreasury', args: [who.address] }),
        'AccessControlUnauthorizedAccount',
        denied,
      );
      await expectRevert(
        send(c, who, { ...c.staking, functionName: 'grantRole', args: [roleIds.SLASHER, who.address] }),
        'AccessControlUnauthorizedAccount',
        denied,
      );
    }
  });

  it('lets the timelock set the minimum stake; existing stakes stay but lose eligibility', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 20_000n * OPEN);
    await stake(c, user, validator, 10_000n * OPEN);
    const tl = await asTimelock(c);
    const receipt = await send(c, tl, {
      ...c.staking,
      functionName: 'setMinimumStake',
      args: [validator, 15_000n * OPEN],
    });
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'MinimumStakeSet' });
    expect(event?.args).toEqual({ role: validator, amount: 15_000n * OPEN });
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'minimumStake', args: [validator] })).toBe(
      15_000n * OPEN,
    );
    expect(await stakeOf(c, user.address, validator)).toBe(10_000n * OPEN);
    expect(await isEligible(c, user.address, validator)).toBe(false);
    await expectRevert(stake(c, user, validator, OPEN), 'BelowMinimumStake', [
      validator,
      10_001n * OPEN,
      15_000n * OPEN,
    ]);
    await stake(c, user, validator, 5_000n * OPEN);
    expect(await isEligible(c, user.address, validator)).toBe(true);
    // A zero minimum accepts any non-zero stake.
    await send(c, tl, { ...c.staking, functionName: 'setMinimumStake', args: [agent, 0n] });
    await stake(c, user, agent, 1n);
    expect(await isEligible(c, user.address, agent)).toBe(true);
  });

  it('lets the timelock set the unbonding period up to 365 days', async () => {
    const c = chain();
    const tl = await asTimelock(c);
    const receipt = await send(c, tl, {
      ...c.staking,
      functionName: 'setUnbondingPeriod',
      args: [365n * DAY],
    });
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'UnbondingPeriodSet' });
    expect(event?.args).toEqual({ secondsToUnbond: 365n * DAY });
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'unbondingPeriod' })).toBe(365n * DAY);
    const err = await expectRevert(
      send(c, tl, { ...c.staking, functionName: 'setUnbondingPeriod', args: [365n * DAY + 1n] }),
      'UnbondingPeriodTooLong',
      [365n * DAY + 1n, 365n * DAY],
    );
    expect(err.message).toBe('Staking.setUnbondingPeriod reverted with UnbondingPeriodTooLong("31536001", "31536000")');
    // The minimum: withdrawable one day later.
    await send(c, tl, { ...c.staking, functionName: 'setUnbondingPeriod', args: [MIN_UNBONDING] });
    const [user] = users(c, 1) as [HDAccount];
    await fund(c, user, 100n * OPEN);
    await stake(c, user, agent, 100n * OPEN);
    const r = await requestUnstake(c, user, agent, 100n * OPEN);
    await warpTo(c, (await blockTime(c, r)) + MIN_UNBONDING);
    await withdraw(c, user, agent);
    expect(await balanceOf(c, user.address)).toBe(100n * OPEN);
  });

  it('refuses an unbonding period below 1 day (UnbondingPeriodTooShort), from the timelock and at deployment', async () => {
    const c = chain();
    const tl = await asTimelock(c);
    for (const period of [0n, 1n, MIN_UNBONDING - 1n]) {
      const err = await expectRevert(
        send(c, tl, { ...c.staking, functionName: 'setUnbondingPeriod', args: [period] }),
        'UnbondingPeriodTooShort',
        [period, MIN_UNBONDING],
      );
      if (period === 0n)
        expect(err.message).toBe('Staking.setUnbondingPeriod reverted with UnbondingPeriodTooShort("0", "86400")');
    }
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'unbondingPeriod' })).toBe(UNBONDING);
    const deploy = (period: bigint) =>
      deployContract(c.clients, c.deployer, StakingArtifact, [
        c.token.address,
        c.timelock.address,
        c.timelock.address,
        period,
        [MINIMUM[0], MINIMUM[1], MINIMUM[2]],
      ]);
    await expectRevert(deploy(MIN_UNBONDING - 1n), 'UnbondingPeriodTooShort', [MIN_UNBONDING - 1n, MIN_UNBONDING]);
    await expectRevert(deploy(365n * DAY + 1n), 'UnbondingPeriodTooLong', [365n * DAY + 1n, 365n * DAY]);
    const { address } = await deploy(MIN_UNBONDING);
    expect(
      await c.clients.public.readContract({ address, abi: StakingArtifact.abi, functionName: 'unbondingPeriod' }),
    ).toBe(MIN_UNBONDING);
  });

  it('lets the timelock move the treasury (never to the zero address or to Staking itself); slashes follow it', async () => {
    const c = chain();
    const [user, vault] = users(c, 2) as [HDAccount, HDAccount];
    const tl = await asTimelock(c);
    await expectRevert(
      send(c, tl, { ...c.staking, functionName: 'setTreasury', args: [zeroAddress] }),
      'ZeroAddress',
      [],
    );
    await expectRevert(
      send(c, tl, { ...c.staking, functionName: 'setTreasury', args: [c.staking.address] }),
      'InvalidTreasury',
      [c.staking.address],
    );
    const receipt = await send(c, tl, { ...c.staking, functionName: 'setTreasury', args: [vault.address] });
    const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'TreasurySet' });
    expect(event?.args).toEqual({ treasury: vault.address });
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'treasury' })).toBe(vault.address);
    await fund(c, user, 1_000n * OPEN);
    await stake(c, user, servingNode, 1_000n * OPEN);
    const timelockBefore = await balanceOf(c, c.timelock.address);
    await slash(c, tl, user.address, servingNode, 400n * OPEN);
    expect(await balanceOf(c, vault.address)).toBe(400n * OPEN);
    expect(await balanceOf(c, c.timelock.address)).toBe(timelockBefore);
  });
});

describe('Staking: views', () => {
  it('checkpoints stake per staker and in total, readable at past timestamps only', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    await fund(c, alice, 30_000n * OPEN);
    await fund(c, bob, 30_000n * OPEN);
    await advanceTime(c.clients, 100);
    const t1 = await blockTime(c, await stake(c, alice, validator, 10_000n * OPEN));
    await advanceTime(c.clients, 100);
    const t2 = await blockTime(c, await stake(c, bob, validator, 12_000n * OPEN));
    await advanceTime(c.clients, 100);
    const t3 = await blockTime(c, await stake(c, alice, validator, 5_000n * OPEN));
    await advanceTime(c.clients, 100);
    const t4 = await blockTime(c, await requestUnstake(c, bob, validator, 12_000n * OPEN));
    await advanceTime(c.clients, 100);
    const tl = await asTimelock(c);
    const t5 = await blockTime(c, await slash(c, tl, alice.address, validator, 3_000n * OPEN));
    await advanceTime(c.clients, 100);

    const stakeAt = (who: Address, t: bigint) =>
      c.clients.public.readContract({ ...c.staking, functionName: 'stakeAt', args: [who, validator, t] });
    const totalAt = (t: bigint) =>
      c.clients.public.readContract({ ...c.staking, functionName: 'totalStakeAt', args: [validator, t] });
    const expected: [bigint, bigint, bigint][] = [
      // [timepoint, alice, bob]
      [t1 - 1n, 0n, 0n],
      [t1, 10_000n, 0n],
      [t2 - 1n, 10_000n, 0n],
      [t2, 10_000n, 12_000n],
      [t3, 15_000n, 12_000n],
      [t4 - 1n, 15_000n, 12_000n],
      [t4, 15_000n, 0n],
      [t5, 12_000n, 0n],
      [t5 + 50n, 12_000n, 0n],
    ];
    for (const [t, a, b] of expected) {
      expect(await stakeAt(alice.address, t), `alice at ${t - t1}`).toBe(a * OPEN);
      expect(await stakeAt(bob.address, t), `bob at ${t - t1}`).toBe(b * OPEN);
      expect(await totalAt(t), `total at ${t - t1}`).toBe((a + b) * OPEN);
    }
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'totalStake', args: [validator] })).toBe(
      12_000n * OPEN,
    );
    // Unbonding stake is not weighted; other roles are separate.
    expect(await c.clients.public.readContract({ ...c.staking, functionName: 'totalStakeAt', args: [agent, t5] })).toBe(
      0n,
    );
  });

  it('refuses lookups at or after the current timestamp (FutureLookup)', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    const now = await c.clients.public.readContract({ ...c.staking, functionName: 'clock' });
    expect(BigInt(now)).toBe(await blockTime(c));
    const err = await expectRevert(
      viewCall(
        c.clients.public.readContract({
          ...c.staking,
          functionName: 'stakeAt',
          args: [user.address, validator, BigInt(now)],
        }),
        'Staking.stakeAt',
      ),
      'FutureLookup',
      [BigInt(now), now],
    );
    expect(err.message).toBe(`Staking.stakeAt reverted with FutureLookup("${now}", ${now})`);
    await expectRevert(
      viewCall(
        c.clients.public.readContract({
          ...c.staking,
          functionName: 'totalStakeAt',
          args: [validator, BigInt(now) + 3600n],
        }),
        'Staking.totalStakeAt',
      ),
      'FutureLookup',
      [BigInt(now) + 3600n, now],
    );
    expect(
      await c.clients.public.readContract({
        ...c.staking,
        functionName: 'stakeAt',
        args: [user.address, validator, BigInt(now) - 1n],
      }),
    ).toBe(0n);
  });

  it('pages through the stakers of a role and counts them', async () => {
    const c = chain();
    const stakers = users(c, 5);
    for (const s of stakers) {
      await fund(c, s, 100n * OPEN);
      await stake(c, s, agent, 100n * OPEN);
    }
    const page = (offset: bigint, limit: bigint) =>
      c.clients.public.readContract({ ...c.staking, functionName: 'stakers', args: [agent, offset, limit] });
    const count = (role: Role) =>
      c.clients.public.readContract({ ...c.staking, functionName: 'stakerCount', args: [role] });
    expect(await count(agent)).toBe(5n);
    expect(await count(validator)).toBe(0n);
    const pages = [await page(0n, 2n), await page(2n, 2n), await page(4n, 2n)];
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual(stakers.map((s) => s.address).sort());
    expect(await page(0n, 100n)).toEqual(pages.flat());
    expect(await page(5n, 2n)).toEqual([]);
    expect(await page(50n, 2n)).toEqual([]);
    expect(await page(1n, 0n)).toEqual([]);
    expect(await page(0n, maxUint256)).toHaveLength(5);
    expect(await page(3n, maxUint256)).toEqual(pages.flat().slice(3));
    expect(await page(5n, maxUint256)).toEqual([]);
    expect(await page(maxUint256, maxUint256)).toEqual([]);

    // Leaving (all active stake unbonding) removes a staker; coming back adds it again.
    const [first] = stakers as [HDAccount];
    await requestUnstake(c, first, agent, 100n * OPEN);
    expect(await count(agent)).toBe(4n);
    expect(await page(0n, 10n)).not.toContain(first.address);
    await fund(c, first, 100n * OPEN);
    await stake(c, first, agent, 100n * OPEN);
    expect(await count(agent)).toBe(5n);
    expect(await page(0n, 10n)).toContain(first.address);
  });

  it('reports eligibility: non-zero stake at or above the minimum', async () => {
    const c = chain();
    const [user] = users(c, 1) as [HDAccount];
    expect(await isEligible(c, user.address, agent)).toBe(false);
    await fund(c, user, 300n * OPEN);
    await stake(c, user, agent, 100n * OPEN);
    expect(await isEligible(c, user.address, agent)).toBe(true);
    expect(await isEligible(c, user.address, servingNode)).toBe(false);
    const tl = await asTimelock(c);
    await slash(c, tl, user.address, agent, 1n);
    expect(await isEligible(c, user.address, agent)).toBe(false);
    await stake(c, user, agent, 1n);
    expect(await isEligible(c, user.address, agent)).toBe(true);
  });
});
