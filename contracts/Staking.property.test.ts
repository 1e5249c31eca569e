/**
 * Model-based property test of Staking: random sequences of stake / requestUnstake / withdraw / slash / lock /
 * unlock / time travel / parameter changes by three stakers, a slasher (granted SLASHER_ROLE by the timelock) and a
 * locker (granted LOCKER_ROLE), run against a real anvil and mirrored in a TypeScript model. After every step the
 * chain must agree with the model, and every call the model says must revert reverts with the predicted custom error
 * (and every other call succeeds). Checked directly on the chain, whatever the model says: active stake never drops
 * below the locked stake, and a slash within the slashable stake always lands in the treasury, locks or not.
 */
import fc from 'fast-check';
import {
  type Address,
  createPublicClient,
  type HDAccount,
  http,
  keccak256,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
} from 'viem';
import { describe, expect, it } from 'vitest';
import { OPEN, roleIds, StakingArtifact, TOTAL_SUPPLY } from '../src/chain/index.js';
import { BaseError } from '../src/core/index.js';
import { send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

type Role = 0 | 1 | 2;
const ROLES: readonly Role[] = [0, 1, 2];
const DAY = 86_400n;
const MAX_UNBONDING_PERIOD = 365n * DAY;
const MIN_UNBONDING_PERIOD = DAY;
/** The deployment's unbonding period (src/chain/parameters.ts). */
const DEFAULT_UNBONDING = 21n * DAY;
const MAX_PENDING = 32;
const FUNDING = 50_000n * OPEN;
const DEFAULT_MINIMUMS: Record<Role, bigint> = { 0: 10_000n * OPEN, 1: 1_000n * OPEN, 2: 100n * OPEN };

// ------------------------------------------------------------------------------------------------- operations

/** How an amount is chosen, resolved against the model when the step runs. */
type AmountSpec =
  | { kind: 'abs'; value: bigint }
  /** `bps`/10,000 of the base (wallet for stake, active for unstake, slashable for slash). */
  | { kind: 'frac'; bps: bigint }
  /** The whole base, plus `delta` wei. */
  | { kind: 'all'; delta: bigint }
  /**
   * Lands on the role minimum plus `delta` wei: stake: the active stake after (or, already there, the amount);
   * unstake: the remaining stake; slash: the amount.
   */
  | { kind: 'min'; delta: bigint };

/**
 * `who`/`role` name a position; with `focus` they instead pick (by index) among the positions where the op can
 * do something (some stake, pending requests), so that random sequences reach deep states and not only reverts.
 */
interface Target {
  who: number;
  role: Role;
  focus: boolean;
}
type Op =
  | ({ op: 'stake'; amount: AmountSpec } & Target)
  | ({ op: 'unstake'; amount: AmountSpec } & Target)
  | ({ op: 'withdraw' } & Target)
  | ({ op: 'slash'; amount: AmountSpec; bySlasher: boolean } & Target)
  /** `amount` resolves against the unlocked active stake. */
  | ({ op: 'lock'; amount: AmountSpec; byLocker: boolean } & Target)
  /** `amount` resolves against the locked stake. */
  | ({ op: 'unlock'; amount: AmountSpec; byLocker: boolean } & Target)
  | { op: 'advance'; seconds: bigint }
  /**
   * Moves the clock to the release time of the position's `nth` pending request (modulo their number) plus `delta`
   * seconds (if in the future): requests made under different periods mature out of order.
   */
  | ({ op: 'toRelease'; delta: bigint; nth: number } & Target)
  | { op: 'setUnbondingPeriod'; seconds: bigint }
  | { op: 'setMinimumStake'; role: Role; amount: bigint };

const roleArb = fc.constantFrom<Role>(0, 1, 2);
const whoArb = fc.integer({ min: 0, max: 2 });
const deltaArb = fc.constantFrom(-1n, 0n, 1n);
const focusArb = fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 });
const amount = {
  zero: fc.constant<AmountSpec>({ kind: 'abs', value: 0n }),
  dust: fc.bigInt(1n, 1_000n).map((value): AmountSpec => ({ kind: 'abs', value })),
  large: fc.bigInt(1n, 80_000n).map((v): AmountSpec => ({ kind: 'abs', value: v * OPEN })),
  frac: fc.bigInt(1n, 10_000n).map((bps): AmountSpec => ({ kind: 'frac', bps })),
  all: deltaArb.map((delta): AmountSpec => ({ kind: 'all', delta })),
  min: deltaArb.map((delta): AmountSpec => ({ kind: 'min', delta })),
};
/** Amounts weighted per operation: mostly ones that can succeed, always some that must revert. */
const amountArb = (weights: Record<keyof typeof amount, number>): fc.Arbitrary<AmountSpec> =>
  fc.oneof(...Object.entries(weights).map(([k, weight]) => ({ arbitrary: amount[k as keyof typeof amount], weight })));
const stakeAmountArb = amountArb({ zero: 1, dust: 1, large: 2, frac: 3, all: 1, min: 4 });
const unstakeAmountArb = amountArb({ zero: 1, dust: 1, large: 1, frac: 4, all: 3, min: 2 });
const slashAmountArb = amountArb({ zero: 1, dust: 1, large: 1, frac: 4, all: 2, min: 1 });
const lockAmountArb = amountArb({ zero: 1, dust: 1, large: 1, frac: 4, all: 3, min: 1 });
const byRoleArb = fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('stake' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      amount: stakeAmountArb,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('unstake' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      amount: unstakeAmountArb,
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ op: fc.constant('withdraw' as const), who: whoArb, role: roleArb, focus: focusArb }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('slash' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      amount: slashAmountArb,
      bySlasher: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('lock' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      amount: lockAmountArb,
      byLocker: byRoleArb,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('unlock' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      amount: lockAmountArb,
      byLocker: byRoleArb,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      seconds: fc.oneof(fc.constantFrom(1n, 3_600n, DAY, 7n * DAY, 21n * DAY, 22n * DAY), fc.bigInt(1n, 25n * DAY)),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('toRelease' as const),
      who: whoArb,
      role: roleArb,
      focus: focusArb,
      delta: deltaArb,
      nth: fc.nat(31),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('setUnbondingPeriod' as const),
      seconds: fc.constantFrom(
        0n,
        60n,
        DAY - 1n,
        DAY,
        2n * DAY,
        7n * DAY,
        30n * DAY,
        MAX_UNBONDING_PERIOD,
        MAX_UNBONDING_PERIOD + 1n,
      ),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('setMinimumStake' as const),
      role: roleArb,
      amount: fc.constantFrom(0n, 1n, 50n * OPEN, 5_000n * OPEN, 20_000n * OPEN),
    }),
    weight: 1,
  },
);

// ------------------------------------------------------------------------------------------------------ model

interface Pending {
  amount: bigint;
  releaseAt: bigint;
}
interface Position {
  active: bigint;
  /** Active stake locked by the locker. */
  locked: bigint;
  /**
   * The contract's queue from its head, oldest first: withdrawn requests behind a pending one stay as zero-amount
   * holes (they count against MAX_PENDING_UNBONDINGS) until everything before them is gone.
   */
  queue: Pending[];
}

/** The requests still pending (what unbondingRequests lists). */
const pending = (p: Position): Pending[] => p.queue.filter((u) => u.amount > 0n);

class Model {
  readonly positions: Position[][] = [0, 1, 2].map(() => ROLES.map(() => ({ active: 0n, locked: 0n, queue: [] })));
  readonly wallet: bigint[] = [FUNDING, FUNDING, FUNDING];
  readonly minimum: bigint[] = ROLES.map((r) => DEFAULT_MINIMUMS[r]);
  period = DEFAULT_UNBONDING;
  slashed = 0n;

  clone(): Model {
    const m = new Model();
    for (const [who, byRole] of this.positions.entries())
      for (const [role, p] of byRole.entries()) {
        const copy = m.pos(who, role as Role);
        copy.active = p.active;
        copy.locked = p.locked;
        copy.queue.push(...p.queue.map((u) => ({ ...u })));
      }
    m.wallet.splice(0, m.wallet.length, ...this.wallet);
    m.minimum.splice(0, m.minimum.length, ...this.minimum);
    m.period = this.period;
    m.slashed = this.slashed;
    return m;
  }
  pos(who: number, role: Role): Position {
    const p = this.positions[who]?.[role];
    if (!p) throw new Error(`no position ${who}/${role}`);
    return p;
  }
  unbonding(who: number, role: Role): bigint {
    return this.pos(who, role).queue.reduce((s, u) => s + u.amount, 0n);
  }
  totalActive(): bigint {
    return this.positions.flat().reduce((s, p) => s + p.active, 0n);
  }
  totalUnbonding(): bigint {
    return this.positions.flat().reduce((s, p) => s + p.queue.reduce((q, u) => q + u.amount, 0n), 0n);
  }
  minimumOf(role: Role): bigint {
    return this.minimum[role] ?? 0n;
  }
}

const nonNegative = (x: bigint, what: string): bigint => {
  if (x < 0n) throw new Error(`model went negative: ${what} = ${x}`);
  return x;
};
const clamp = (x: bigint) => (x < 0n ? 0n : x);

function resolve(spec: AmountSpec, base: bigint, atMinimum: bigint): bigint {
  switch (spec.kind) {
    case 'abs':
      return spec.value;
    case 'frac':
      return (base * spec.bps) / 10_000n;
    case 'all':
      return clamp(base + spec.delta);
    case 'min':
      return clamp(atMinimum + spec.delta);
  }
}

/** What the model expects a transaction to do: revert with `error(args)`, or succeed and `apply` at time `t`. */
type Expectation =
  | { error: string; args: unknown[] }
  | {
      error?: undefined;
      apply: (t: bigint, receipt: TransactionReceipt) => void;
      /** Checks on the chain after the transaction, independent of the model. */
      after?: () => Promise<void>;
    };

// ----------------------------------------------------------------------------------------------------- driver

interface World {
  c: TestChain;
  /** A client that batches concurrent reads into one JSON-RPC request. */
  reader: PublicClient;
  stakers: HDAccount[];
  slasher: HDAccount;
  locker: HDAccount;
  timelock: Address;
  treasuryBefore: bigint;
}

function staker(w: World, who: number): HDAccount {
  const s = w.stakers[who];
  if (!s) throw new Error(`no staker ${who}`);
  return s;
}

/** Predicts `op` at the current time `now` and builds the transaction that performs it. */
function plan(
  w: World,
  m: Model,
  op: Exclude<Op, { op: 'advance' } | { op: 'toRelease' }>,
  now: bigint,
): { send: () => Promise<TransactionReceipt>; expect: Expectation } {
  const { c } = w;
  switch (op.op) {
    case 'stake': {
      const s = staker(w, op.who);
      const p = m.pos(op.who, op.role);
      const wallet = m.wallet[op.who] ?? 0n;
      const min = m.minimumOf(op.role);
      // 'min' lands the stake on the minimum, or (already there) adds the minimum again.
      const amount = resolve(op.amount, wallet, p.active >= min ? min : min - p.active);
      const after = p.active + amount;
      const call = () => send(c, s, { ...c.staking, functionName: 'stake', args: [op.role, amount] });
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      if (after < min) return { send: call, expect: { error: 'BelowMinimumStake', args: [op.role, after, min] } };
      if (amount > wallet)
        return { send: call, expect: { error: 'ERC20InsufficientBalance', args: [s.address, wallet, amount] } };
      return {
        send: call,
        expect: {
          apply: () => {
            p.active = after;
            m.wallet[op.who] = nonNegative(wallet - amount, 'wallet');
          },
        },
      };
    }
    case 'unstake': {
      const s = staker(w, op.who);
      const p = m.pos(op.who, op.role);
      const min = m.minimumOf(op.role);
      const amount = resolve(op.amount, p.active, p.active - min);
      const call = () => send(c, s, { ...c.staking, functionName: 'requestUnstake', args: [op.role, amount] });
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      if (amount > p.active) return { send: call, expect: { error: 'InsufficientStake', args: [amount, p.active] } };
      if (p.queue.length >= MAX_PENDING)
        return { send: call, expect: { error: 'TooManyPendingUnbondings', args: [BigInt(MAX_PENDING)] } };
      const remaining = p.active - amount;
      if (remaining !== 0n && remaining < min)
        return { send: call, expect: { error: 'BelowMinimumStake', args: [op.role, remaining, min] } };
      if (remaining < p.locked)
        return { send: call, expect: { error: 'StakeLocked', args: [s.address, op.role, p.locked, remaining] } };
      const period = m.period;
      return {
        send: call,
        expect: {
          apply: (t) => {
            p.active = nonNegative(remaining, 'active');
            p.queue.push({ amount, releaseAt: t + period });
          },
          // Straight from the chain: the unstake left at least the locked stake active.
          after: async () => {
            const [active, locked] = await Promise.all([
              w.reader.readContract({ ...c.staking, functionName: 'stakeOf', args: [s.address, op.role] }),
              w.reader.readContract({ ...c.staking, functionName: 'lockedOf', args: [s.address, op.role] }),
            ]);
            expect(active, 'requestUnstake never takes active stake below the locked stake').toBeGreaterThanOrEqual(
              locked,
            );
          },
        },
      };
    }
    case 'withdraw': {
      const s = staker(w, op.who);
      const p = m.pos(op.who, op.role);
      const call = () => send(c, s, { ...c.staking, functionName: 'withdraw', args: [op.role] });
      // Every matured request goes, wherever it is in the queue; none matured names the earliest release.
      const waiting = pending(p);
      if (!waiting.some((u) => u.releaseAt <= now)) {
        const next = waiting.reduce((min, u) => (min === 0n || u.releaseAt < min ? u.releaseAt : min), 0n);
        return { send: call, expect: { error: 'NothingToWithdraw', args: [s.address, op.role, next] } };
      }
      return {
        send: call,
        expect: {
          apply: (t, receipt) => {
            let amount = 0n;
            for (const u of p.queue)
              if (u.amount > 0n && u.releaseAt <= t) {
                amount += u.amount;
                u.amount = 0n;
              }
            while (p.queue[0] && p.queue[0].amount === 0n) p.queue.shift();
            m.wallet[op.who] = (m.wallet[op.who] ?? 0n) + amount;
            const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Withdrawn' });
            expect(event?.args).toEqual({ staker: s.address, role: op.role, amount });
          },
        },
      };
    }
    case 'slash': {
      const s = staker(w, op.who);
      const p = m.pos(op.who, op.role);
      const by = op.bySlasher ? w.slasher : staker(w, (op.who + 1) % 3);
      const slashable = p.active + m.unbonding(op.who, op.role);
      const amount = resolve(op.amount, slashable, m.minimumOf(op.role));
      const why = keccak256(stringToHex(`step at ${now}`));
      const call = () => send(c, by, { ...c.staking, functionName: 'slash', args: [s.address, op.role, amount, why] });
      if (!op.bySlasher)
        return {
          send: call,
          expect: { error: 'AccessControlUnauthorizedAccount', args: [by.address, roleIds.SLASHER] },
        };
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      if (amount > slashable)
        return { send: call, expect: { error: 'SlashExceedsStake', args: [s.address, op.role, amount, slashable] } };
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const fromActive = amount < p.active ? amount : p.active;
            let rest = amount - fromActive;
            const fromUnbonding = rest;
            p.active = nonNegative(p.active - fromActive, 'active');
            // Newest first, stepping over (and dropping) the holes at the end.
            while (rest > 0n) {
              const last = p.queue[p.queue.length - 1];
              if (!last) throw new Error('model: slashed past the unbonding queue');
              const take = rest < last.amount ? rest : last.amount;
              last.amount = nonNegative(last.amount - take, 'unbonding');
              rest -= take;
              if (last.amount === 0n) p.queue.pop();
            }
            if (p.locked > p.active) p.locked = p.active;
            m.slashed += amount;
            // The slash lands, locks or not: exactly `amount` moves from Staking to the treasury.
            const transfers = parseEventLogs({ abi: c.token.abi, logs: receipt.logs, eventName: 'Transfer' });
            expect(
              transfers.map((e) => ({ token: e.address, ...e.args })),
              'a slash always moves the stake to the treasury',
            ).toEqual([
              { token: c.token.address.toLowerCase(), from: c.staking.address, to: w.timelock, value: amount },
            ]);
            const [event] = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
            expect(event?.args).toEqual({
              staker: s.address,
              role: op.role,
              amount,
              fromActive,
              fromUnbonding,
              reasonHash: why,
              slasher: w.slasher.address,
            });
          },
        },
      };
    }
    case 'lock':
    case 'unlock': {
      const s = staker(w, op.who);
      const p = m.pos(op.who, op.role);
      const by = op.byLocker ? w.locker : staker(w, (op.who + 2) % 3);
      const unlocked = p.active - p.locked;
      const amount = resolve(op.amount, op.op === 'lock' ? unlocked : p.locked, m.minimumOf(op.role));
      const call = () => send(c, by, { ...c.staking, functionName: op.op, args: [s.address, op.role, amount] });
      if (!op.byLocker)
        return {
          send: call,
          expect: { error: 'AccessControlUnauthorizedAccount', args: [by.address, roleIds.LOCKER] },
        };
      if (op.op === 'lock' && amount > unlocked)
        return {
          send: call,
          expect: { error: 'InsufficientUnlockedStake', args: [s.address, op.role, amount, unlocked] },
        };
      const delta = op.op === 'lock' ? amount : -(amount < p.locked ? amount : p.locked);
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            p.locked = nonNegative(p.locked + delta, 'locked');
            const events = parseEventLogs({
              abi: StakingArtifact.abi,
              logs: receipt.logs,
              eventName: 'StakeLockChanged',
            });
            expect(events.map((e) => e.args)).toEqual(
              delta === 0n
                ? []
                : [{ staker: s.address, role: op.role, delta, lockedAfter: p.locked, locker: w.locker.address }],
            );
          },
        },
      };
    }
    case 'setUnbondingPeriod': {
      const call = () => send(c, w.timelock, { ...c.staking, functionName: 'setUnbondingPeriod', args: [op.seconds] });
      if (op.seconds > MAX_UNBONDING_PERIOD)
        return {
          send: call,
          expect: { error: 'UnbondingPeriodTooLong', args: [op.seconds, MAX_UNBONDING_PERIOD] },
        };
      if (op.seconds < MIN_UNBONDING_PERIOD)
        return {
          send: call,
          expect: { error: 'UnbondingPeriodTooShort', args: [op.seconds, MIN_UNBONDING_PERIOD] },
        };
      return {
        send: call,
        expect: {
          apply: () => {
            m.period = op.seconds;
          },
        },
      };
    }
    case 'setMinimumStake': {
      const call = () =>
        send(c, w.timelock, { ...c.staking, functionName: 'setMinimumStake', args: [op.role, op.amount] });
      return {
        send: call,
        expect: {
          apply: () => {
            m.minimum[op.role] = op.amount;
          },
        },
      };
    }
  }
}

/** The position an op acts on (see {@link Target}). */
function retarget<T extends Op>(m: Model, op: T): T {
  if (!('focus' in op) || !op.focus) return op;
  const useful = (p: Position): boolean => {
    switch (op.op) {
      case 'stake':
      case 'unstake':
        return p.active > 0n;
      case 'slash':
        return p.active > 0n || pending(p).length > 0;
      case 'lock':
        return p.active > p.locked;
      case 'unlock':
        return p.locked > 0n;
      default:
        return pending(p).length > 0;
    }
  };
  const candidates = m.positions.flatMap((_byRole, who) =>
    ROLES.filter((role) => useful(m.pos(who, role))).map((role) => ({ who, role })),
  );
  const pick = candidates[(op.who * 3 + op.role) % Math.max(candidates.length, 1)];
  return pick ? { ...op, ...pick } : op;
}

async function step(w: World, m: Model, original: Op): Promise<void> {
  const { c } = w;
  const op = retarget(m, original);
  const now = (await c.clients.public.getBlock()).timestamp;
  if (op.op === 'advance') return warpTo(c, now + op.seconds);
  if (op.op === 'toRelease') {
    const waiting = pending(m.pos(op.who, op.role));
    const chosen = waiting[op.nth % Math.max(waiting.length, 1)];
    const target = chosen ? chosen.releaseAt + op.delta : now + 1n;
    if (target > now) await warpTo(c, target);
    return;
  }
  const { send: run, expect: expected } = plan(w, m, op, now);
  const outcome = await run().then(
    (receipt) => ({ receipt, error: undefined }),
    (error: unknown) => ({ receipt: undefined, error }),
  );
  if (expected.error !== undefined) {
    expect(outcome.error, `expected ${expected.error}`).toBeInstanceOf(BaseError);
    const err = outcome.error as BaseError;
    expect(err.code, err.message).toBe('CONTRACT_REVERTED');
    expect(err.details.error, err.message).toBe(expected.error);
    expect(err.details.args).toEqual(expected.args.map((a) => (typeof a === 'bigint' ? a.toString() : a)));
    return;
  }
  if (outcome.error !== undefined) throw outcome.error;
  const receipt = outcome.receipt as TransactionReceipt;
  const t = (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
  expect(t, 'the transaction is mined at the time it was simulated').toBe(now);
  expected.apply(t, receipt);
  await expected.after?.();
}

/** Everything the chain must agree on with the model. */
async function check(w: World, m: Model): Promise<void> {
  const { c, reader } = w;
  const staking = c.staking;
  const token = c.token;
  const pairs = w.stakers.flatMap((s, who) => ROLES.map((role) => ({ s, who, role })));
  const [supply, held, totalActive, totalUnbonding, treasury, period, wallets, positions, roles] = await Promise.all([
    reader.readContract({ ...token, functionName: 'totalSupply' }),
    reader.readContract({ ...token, functionName: 'balanceOf', args: [staking.address] }),
    reader.readContract({ ...staking, functionName: 'totalActive' }),
    reader.readContract({ ...staking, functionName: 'totalUnbonding' }),
    reader.readContract({ ...token, functionName: 'balanceOf', args: [w.timelock] }),
    reader.readContract({ ...staking, functionName: 'unbondingPeriod' }),
    Promise.all(w.stakers.map((s) => reader.readContract({ ...token, functionName: 'balanceOf', args: [s.address] }))),
    Promise.all(
      pairs.map(({ s, role }) =>
        Promise.all([
          reader.readContract({ ...staking, functionName: 'stakeOf', args: [s.address, role] }),
          reader.readContract({ ...staking, functionName: 'unbondingOf', args: [s.address, role] }),
          reader.readContract({ ...staking, functionName: 'unbondingRequests', args: [s.address, role] }),
          reader.readContract({ ...staking, functionName: 'isEligible', args: [s.address, role] }),
          reader.readContract({ ...staking, functionName: 'lockedOf', args: [s.address, role] }),
        ]),
      ),
    ),
    Promise.all(
      ROLES.map((role) =>
        Promise.all([
          reader.readContract({ ...staking, functionName: 'totalStake', args: [role] }),
          reader.readContract({ ...staking, functionName: 'stakerCount', args: [role] }),
          reader.readContract({ ...staking, functionName: 'minimumStake', args: [role] }),
        ]),
      ),
    ),
  ]);

  expect(supply, 'OPEN supply is constant').toBe(TOTAL_SUPPLY);
  expect(totalActive, 'totalActive').toBe(m.totalActive());
  expect(totalUnbonding, 'totalUnbonding').toBe(m.totalUnbonding());
  expect(held, 'Staking holds exactly active + unbonding').toBe(totalActive + totalUnbonding);
  expect(treasury - w.treasuryBefore, 'the treasury received exactly what was slashed').toBe(m.slashed);
  expect(period, 'unbondingPeriod').toBe(m.period);
  expect(wallets, 'staker wallets').toEqual(m.wallet);
  for (const [i, { who, role }] of pairs.entries()) {
    const [active, unbonding, requests, eligible, locked] = positions[i] ?? [];
    const p = m.pos(who, role);
    const label = `staker ${who} role ${role}`;
    expect(active, `${label} stakeOf`).toBe(nonNegative(p.active, 'active'));
    expect(locked, `${label} lockedOf`).toBe(p.locked);
    expect((active ?? 0n) >= (locked ?? 0n), `${label}: active stake is never below the locked stake`).toBe(true);
    expect(unbonding, `${label} unbondingOf`).toBe(nonNegative(m.unbonding(who, role), 'unbonding'));
    expect(
      requests?.map((u) => ({ amount: u.amount, releaseAt: u.releaseAt })),
      `${label} unbondingRequests`,
    ).toEqual(pending(p));
    expect(eligible, `${label} isEligible`).toBe(p.active !== 0n && p.active >= m.minimumOf(role));
  }
  for (const role of ROLES) {
    const [total, count, minimum] = roles[role] ?? [];
    const active = m.positions.map((byRole) => byRole[role]?.active ?? 0n);
    expect(total, `totalStake(${role})`).toBe(active.reduce((s, a) => s + a, 0n));
    expect(count, `stakerCount(${role})`).toBe(BigInt(active.filter((a) => a > 0n).length));
    expect(minimum, `minimumStake(${role})`).toBe(m.minimumOf(role));
  }
}

describe('Staking (model-based)', () => {
  it('keeps balances, stakes, queues and the treasury in step with the model over random operations', async () => {
    const c = chain();
    const [s0, s1, s2, slasher, locker] = c.users as [HDAccount, HDAccount, HDAccount, HDAccount, HDAccount];
    const stakers = [s0, s1, s2];
    const timelock = await c.impersonate(c.timelock.address);
    for (const s of stakers) {
      await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [s.address, FUNDING] });
      await send(c, s, { ...c.token, functionName: 'approve', args: [c.staking.address, maxUint256] });
    }
    await send(c, timelock, { ...c.staking, functionName: 'grantRole', args: [roleIds.SLASHER, slasher.address] });
    await send(c, timelock, { ...c.staking, functionName: 'grantRole', args: [roleIds.LOCKER, locker.address] });
    const w: World = {
      c,
      reader: createPublicClient({
        chain: c.clients.chain,
        transport: http(c.clients.rpcUrl, { batch: true }),
      }) as PublicClient,
      stakers,
      slasher,
      locker,
      timelock,
      treasuryBefore: await c.clients.public.readContract({
        ...c.token,
        functionName: 'balanceOf',
        args: [c.timelock.address],
      }),
    };
    // Every run starts from the same staked state (some stake in each role, requests unbonding at different
    // times and under different periods, some stake locked), reached through the model like any other step.
    const start = new Model();
    const abs = (v: bigint): AmountSpec => ({ kind: 'abs', value: v * OPEN });
    const at = (who: number, role: Role) => ({ who, role, focus: false });
    const seed: Op[] = [
      { op: 'stake', ...at(0, 0), amount: abs(20_000n) },
      { op: 'stake', ...at(0, 2), amount: abs(500n) },
      { op: 'stake', ...at(1, 1), amount: abs(5_000n) },
      { op: 'stake', ...at(2, 2), amount: abs(1_000n) },
      { op: 'stake', ...at(2, 0), amount: abs(12_000n) },
      { op: 'unstake', ...at(0, 0), amount: abs(3_000n) },
      { op: 'advance', seconds: 2n * DAY },
      { op: 'unstake', ...at(1, 1), amount: abs(1_000n) },
      { op: 'lock', ...at(1, 1), amount: abs(2_000n), byLocker: true },
      { op: 'lock', ...at(2, 0), amount: abs(12_000n), byLocker: true },
      { op: 'advance', seconds: DAY },
      { op: 'setUnbondingPeriod', seconds: 2n * DAY },
      { op: 'unstake', ...at(2, 2), amount: abs(300n) },
      { op: 'unstake', ...at(0, 0), amount: abs(1_000n) },
    ];
    for (const op of seed) {
      await step(w, start, op);
      await check(w, start);
    }
    expect(start.totalUnbonding()).toBe(5_300n * OPEN);

    // Staker 0's validator position holds a 21-day request followed by a 2-day one (the period was shortened in
    // between). These runs always go first: the second request matures first and is withdrawn around the first,
    // leaving a hole behind it, which later slashes, unstakes and withdrawals must step over.
    const frac = (bps: bigint): AmountSpec => ({ kind: 'frac', bps });
    const examples: Op[][] = [
      [
        { op: 'toRelease', ...at(0, 0), nth: 1, delta: -1n },
        { op: 'withdraw', ...at(0, 0) },
        { op: 'advance', seconds: 1n },
        { op: 'withdraw', ...at(0, 0) },
        { op: 'lock', ...at(0, 0), amount: abs(5_000n), byLocker: true },
        { op: 'unstake', ...at(0, 0), amount: abs(2_000n) },
        { op: 'slash', ...at(0, 0), amount: frac(9_000n), bySlasher: true },
        { op: 'toRelease', ...at(0, 0), nth: 0, delta: 0n },
        { op: 'withdraw', ...at(0, 0) },
      ],
      [
        { op: 'toRelease', ...at(0, 0), nth: 1, delta: 0n },
        { op: 'withdraw', ...at(0, 0) },
        { op: 'setUnbondingPeriod', seconds: DAY },
        { op: 'unstake', ...at(0, 0), amount: abs(1_000n) },
        { op: 'advance', seconds: DAY },
        { op: 'withdraw', ...at(0, 0) },
        { op: 'unlock', ...at(1, 1), amount: abs(500n), byLocker: true },
        { op: 'unstake', ...at(1, 1), amount: { kind: 'all', delta: 0n } },
        { op: 'slash', ...at(1, 1), amount: { kind: 'all', delta: 0n }, bySlasher: true },
      ],
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 6, maxLength: 15 }), async (ops) => {
        const test = c.clients.test();
        const snapshot = await test.snapshot();
        try {
          const m = start.clone();
          for (const op of ops) {
            await step(w, m, op);
            await check(w, m);
          }
        } finally {
          await test.revert({ id: snapshot });
        }
      }),
      { numRuns: 40, examples: examples.map((ops) => [ops]) },
    );
  });
});
