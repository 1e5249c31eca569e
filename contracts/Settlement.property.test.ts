/**
 * Model-based property tests of settlement against a real anvil, mirrored in TypeScript models. Every call the
 * model says must revert reverts with the predicted custom error and arguments; every other call succeeds and
 * moves exactly what the model says.
 *
 * 1. InferenceEscrow: random open / topUp / redeem (fresh, replayed, stale, too large, forged or misbound
 *    vouchers, wrong node) / close / time travel over several channels. No voucher ever pays twice, redeemed ≤
 *    deposit, the escrow holds Σ(deposit − redeemed) of open channels, the distributor's feesReceived = Σ redeemed.
 * 2. RewardDistributor: random epochs of non-decreasing cumulative payouts posted (some out of order, decreasing,
 *    or above the fees), finalized, challenged and resolved (upheld with a correction and a slash, or rejected),
 *    with random claims and batches (repeated, stale or pending proofs, inflated amounts). No account ever gets
 *    more than its entitlement in the finalized root, the distributor holds feesReceived − Σ claimed (+ a pending
 *    bond), Σ claimed ≤ the finalized epoch's cumulative total, and the treasury gets exactly forfeited bonds and
 *    slashes.
 */
import fc from 'fast-check';
import {
  type Address,
  createPublicClient,
  type HDAccount,
  type Hex,
  http,
  keccak256,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  recoverTypedDataAddress,
  stringToHex,
  type TransactionReceipt,
  zeroHash,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  InferenceEscrowArtifact,
  merkleTree,
  OPEN,
  RewardDistributorArtifact,
  roleIds,
  StakingArtifact,
  stakingRoles,
  standardLeaf,
} from '../src/chain/index.js';
import { BaseError } from '../src/core/index.js';
import { send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const DAY = 86_400n;
const WINDOW = DAY;
const BOND = 1_000n * OPEN;

// ----------------------------------------------------------------------------------------------- shared driver

/** What the model expects of a transaction: a revert with `error(args)`, or success, then `apply` at time `t`. */
type Expectation =
  | { error: string; args: unknown[] }
  | { error?: undefined; apply: (t: bigint, receipt: TransactionReceipt) => void };
interface Planned {
  send: () => Promise<TransactionReceipt>;
  expect: Expectation;
}
const refused = (send: () => Promise<TransactionReceipt>, error: string, args: unknown[]): Planned => ({
  send,
  expect: { error, args },
});

/** Runs a planned transaction and holds the chain to the model's expectation. */
async function run(c: TestChain, planned: Planned, now: bigint): Promise<void> {
  const outcome = await planned.send().then(
    (receipt) => ({ receipt, error: undefined }),
    (error: unknown) => ({ receipt: undefined, error }),
  );
  const expected = planned.expect;
  if (expected.error !== undefined) {
    expect(outcome.error, `expected ${expected.error}`).toBeInstanceOf(BaseError);
    const err = outcome.error as BaseError;
    expect(err.code, err.message).toBe('CONTRACT_REVERTED');
    expect(err.details.error, err.message).toBe(expected.error);
    expect(err.details.args, err.message).toEqual(expected.args.map((a) => (typeof a === 'bigint' ? a.toString() : a)));
    return;
  }
  if (outcome.error !== undefined) throw outcome.error;
  const receipt = outcome.receipt as TransactionReceipt;
  const t = (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;
  expect(t, 'the transaction is mined at the time it was simulated').toBe(now);
  expected.apply(t, receipt);
}

const batchReader = (c: TestChain): PublicClient =>
  createPublicClient({ chain: c.clients.chain, transport: http(c.clients.rpcUrl, { batch: true }) }) as PublicClient;

const escrowOf = (c: TestChain) =>
  ({
    address: c.deployment.contracts.InferenceEscrow,
    abi: InferenceEscrowArtifact.abi,
    contract: 'InferenceEscrow',
  }) as const;
const distributorOf = (c: TestChain) =>
  ({
    address: c.deployment.contracts.RewardDistributor,
    abi: RewardDistributorArtifact.abi,
    contract: 'RewardDistributor',
  }) as const;

const voucherTypes = {
  Voucher: [
    { name: 'channelId', type: 'uint256' },
    { name: 'node', type: 'address' },
    { name: 'cumulativeAmount', type: 'uint256' },
  ],
} as const;
const voucherDomain = (c: TestChain) => ({
  name: 'Tributary InferenceEscrow',
  version: '1',
  chainId: c.clients.chain.id,
  verifyingContract: escrowOf(c).address,
});
interface Voucher {
  channelId: bigint;
  node: Address;
  cumulativeAmount: bigint;
}
const signVoucher = (c: TestChain, signer: HDAccount, message: Voucher): Promise<Hex> =>
  signer.signTypedData({ domain: voucherDomain(c), types: voucherTypes, primaryType: 'Voucher', message });

const balanceOf = (r: PublicClient, c: TestChain, who: Address) =>
  r.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });

// ======================================================================================== 1. InferenceEscrow

const USERS = 2;
const NODES = 2;
const WALLET = 1_000n * OPEN;

type Amount =
  | { kind: 'zero' }
  | { kind: 'abs'; value: bigint }
  /** The whole wallet plus `delta` wei (above it: the token refuses). */
  | { kind: 'wallet'; delta: bigint };

type VoucherKind =
  /** redeemed + bps/10,000 of what is left (at least 1 wei). */
  | { kind: 'next'; bps: bigint }
  | { kind: 'exact' }
  | { kind: 'over'; delta: bigint }
  /** The very voucher last redeemed, byte for byte (or a zero voucher if none). */
  | { kind: 'replay' }
  /** An earlier signed voucher below what was redeemed (a replay if there is none). */
  | { kind: 'stale'; pick: number }
  /** A fresh amount signed by a stranger. */
  | { kind: 'forged'; bps: bigint }
  /** A fresh amount the user signed for another channel id. */
  | { kind: 'otherChannel'; bps: bigint };

interface ChannelPick {
  ch: number;
  unknown: boolean;
}
type EscrowOp =
  | { op: 'open'; user: number; node: number; amount: Amount; duration: bigint }
  | ({ op: 'topUp'; byUser: boolean; amount: Amount; extension: bigint } & ChannelPick)
  | ({ op: 'redeem'; voucher: VoucherKind; byNode: boolean } & ChannelPick)
  | ({ op: 'close'; byUser: boolean; warp: boolean; delta: bigint } & ChannelPick)
  | { op: 'advance'; seconds: bigint };

const pickArb = {
  ch: fc.nat({ max: 15 }),
  unknown: fc.oneof({ arbitrary: fc.constant(false), weight: 12 }, { arbitrary: fc.constant(true), weight: 1 }),
};
const mostly = (weight: number) =>
  fc.oneof({ arbitrary: fc.constant(true), weight }, { arbitrary: fc.constant(false), weight: 1 });
const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { arbitrary: fc.constant<Amount>({ kind: 'zero' }), weight: 1 },
  { arbitrary: fc.bigInt(1n, 300n * OPEN).map((value): Amount => ({ kind: 'abs', value })), weight: 6 },
  { arbitrary: fc.bigInt(1n, 50n).map((value): Amount => ({ kind: 'abs', value })), weight: 1 },
  { arbitrary: fc.constantFrom(0n, 1n).map((delta): Amount => ({ kind: 'wallet', delta })), weight: 1 },
);
const bpsArb = fc.oneof(fc.bigInt(1n, 10_000n), fc.constantFrom(1n, 5_000n, 10_000n));
const voucherArb: fc.Arbitrary<VoucherKind> = fc.oneof(
  { arbitrary: bpsArb.map((bps): VoucherKind => ({ kind: 'next', bps })), weight: 8 },
  { arbitrary: fc.constant<VoucherKind>({ kind: 'exact' }), weight: 2 },
  { arbitrary: fc.bigInt(1n, OPEN).map((delta): VoucherKind => ({ kind: 'over', delta })), weight: 2 },
  { arbitrary: fc.constant<VoucherKind>({ kind: 'replay' }), weight: 3 },
  { arbitrary: fc.nat().map((pick): VoucherKind => ({ kind: 'stale', pick })), weight: 3 },
  { arbitrary: bpsArb.map((bps): VoucherKind => ({ kind: 'forged', bps })), weight: 1 },
  { arbitrary: bpsArb.map((bps): VoucherKind => ({ kind: 'otherChannel', bps })), weight: 1 },
);
const escrowOpArb: fc.Arbitrary<EscrowOp> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('open' as const),
      user: fc.nat({ max: USERS - 1 }),
      node: fc.nat({ max: NODES - 1 }),
      amount: amountArb,
      duration: fc.oneof({ arbitrary: fc.constant(0n), weight: 1 }, { arbitrary: fc.bigInt(1n, 3n * DAY), weight: 8 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('topUp' as const),
      ...pickArb,
      byUser: mostly(6),
      amount: amountArb,
      extension: fc.oneof(fc.constant(0n), fc.bigInt(1n, DAY)),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('redeem' as const), ...pickArb, voucher: voucherArb, byNode: mostly(10) }),
    weight: 9,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('close' as const),
      ...pickArb,
      byUser: mostly(8),
      warp: mostly(2),
      delta: fc.constantFrom(-1n, 0n, 1n),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), seconds: fc.bigInt(1n, 2n * DAY) }), weight: 1 },
);

interface ChannelModel {
  id: bigint;
  user: number;
  node: number;
  deposit: bigint;
  redeemed: bigint;
  expiresAt: bigint;
  closed: boolean;
  /** Vouchers the user signed for this channel, in order. */
  signed: { amount: bigint; signature: Hex }[];
  /** The signature of the voucher last redeemed. */
  lastRedeemed?: Hex;
}

class EscrowModel {
  readonly channels: ChannelModel[] = [];
  readonly wallet: bigint[] = Array.from({ length: USERS }, () => WALLET);
  /** (channel, cumulative amount) of every voucher that paid. */
  readonly paid = new Set<string>();
  redeemedTotal(): bigint {
    return this.channels.reduce((s, ch) => s + ch.redeemed, 0n);
  }
  held(): bigint {
    return this.channels.filter((ch) => !ch.closed).reduce((s, ch) => s + ch.deposit - ch.redeemed, 0n);
  }
}

interface EscrowWorld {
  c: TestChain;
  reader: PublicClient;
  users: HDAccount[];
  nodes: HDAccount[];
  stranger: HDAccount;
  feesBefore: bigint;
  distributorBefore: bigint;
}

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i];
  if (x === undefined) throw new Error(`no element ${i}`);
  return x;
};

function resolveAmount(a: Amount, wallet: bigint): bigint {
  switch (a.kind) {
    case 'zero':
      return 0n;
    case 'abs':
      return a.value;
    case 'wallet':
      return wallet + a.delta;
  }
}

async function planEscrow(
  w: EscrowWorld,
  m: EscrowModel,
  op: Exclude<EscrowOp, { op: 'advance' }>,
  now: bigint,
): Promise<Planned> {
  const { c } = w;
  const escrow = escrowOf(c);
  if (op.op === 'open') {
    const user = at(w.users, op.user);
    const node = at(w.nodes, op.node);
    const wallet = at(m.wallet, op.user);
    const amount = resolveAmount(op.amount, wallet);
    const call = () =>
      send(c, user, { ...escrow, functionName: 'openChannel', args: [node.address, amount, op.duration] });
    if (amount === 0n || op.duration === 0n) return refused(call, 'ZeroAmount', []);
    if (amount > wallet) return refused(call, 'ERC20InsufficientBalance', [user.address, wallet, amount]);
    const id = BigInt(m.channels.length + 1);
    return {
      send: call,
      expect: {
        apply: (t, receipt) => {
          const [event] = parseEventLogs({ abi: escrow.abi, logs: receipt.logs, eventName: 'ChannelOpened' });
          expect(event?.args).toEqual({
            channelId: id,
            user: user.address,
            node: node.address,
            deposit: amount,
            expiresAt: t + op.duration,
          });
          m.channels.push({
            id,
            user: op.user,
            node: op.node,
            deposit: amount,
            redeemed: 0n,
            expiresAt: t + op.duration,
            closed: false,
            signed: [],
          });
          m.wallet[op.user] = wallet - amount;
        },
      },
    };
  }

  const ch = op.unknown || m.channels.length === 0 ? undefined : at(m.channels, op.ch % m.channels.length);
  const id = ch?.id ?? BigInt(m.channels.length + 1);
  const user = at(w.users, ch?.user ?? 0);
  const node = at(w.nodes, ch?.node ?? 0);
  const otherNode = at(w.nodes, ((ch?.node ?? 0) + 1) % NODES);

  switch (op.op) {
    case 'topUp': {
      const who = op.byUser ? user : w.stranger;
      const wallet = at(m.wallet, ch?.user ?? 0);
      const amount = resolveAmount(op.amount, op.byUser ? wallet : 0n);
      const call = () => send(c, who, { ...escrow, functionName: 'topUp', args: [id, amount, op.extension] });
      if (!ch) return refused(call, 'UnknownChannel', [id]);
      if (!op.byUser) return refused(call, 'NotChannelUser', [id, who.address]);
      if (ch.closed) return refused(call, 'ChannelClosed', [id]);
      if (amount === 0n) return refused(call, 'ZeroAmount', []);
      if (amount > wallet) return refused(call, 'ERC20InsufficientBalance', [user.address, wallet, amount]);
      return {
        send: call,
        expect: {
          apply: () => {
            ch.deposit += amount;
            ch.expiresAt += op.extension;
            m.wallet[ch.user] = wallet - amount;
          },
        },
      };
    }
    case 'redeem': {
      const by = op.byNode ? node : otherNode;
      const redeemed = ch?.redeemed ?? 0n;
      const deposit = ch?.deposit ?? 0n;
      const fresh = (bps: bigint) => {
        const step = ((deposit - redeemed) * bps) / 10_000n;
        return redeemed + (step > 0n ? step : 1n);
      };
      const v = op.voucher;
      let amount: bigint;
      let signature: Hex | undefined;
      let signer = user;
      let signedFor = id;
      switch (v.kind) {
        case 'next':
          amount = fresh(v.bps);
          break;
        case 'exact':
          amount = deposit;
          break;
        case 'over':
          amount = deposit + v.delta;
          break;
        case 'replay':
          amount = redeemed;
          signature = ch?.lastRedeemed;
          break;
        case 'stale': {
          const older = (ch?.signed ?? []).filter((s) => s.amount < redeemed);
          const pick = older[v.pick % Math.max(older.length, 1)];
          amount = pick?.amount ?? redeemed;
          signature = pick?.signature ?? ch?.lastRedeemed;
          break;
        }
        case 'forged':
          amount = fresh(v.bps);
          signer = w.stranger;
          break;
        case 'otherChannel':
          amount = fresh(v.bps);
          signedFor = id + 1_000n;
          break;
      }
      if (!signature) {
        signature = await signVoucher(c, signer, {
          channelId: signedFor,
          node: node.address,
          cumulativeAmount: amount,
        });
        if (ch && signer === user && signedFor === id) ch.signed.push({ amount, signature });
      }
      const sig = signature;
      const call = () => send(c, by, { ...escrow, functionName: 'redeem', args: [id, amount, sig] });
      if (!ch) return refused(call, 'UnknownChannel', [id]);
      if (!op.byNode) return refused(call, 'NotChannelNode', [id, by.address]);
      if (ch.closed) return refused(call, 'ChannelClosed', [id]);
      if (amount <= redeemed) return refused(call, 'VoucherNotNewer', [redeemed, amount]);
      if (amount > deposit) return refused(call, 'ExceedsDeposit', [deposit, amount]);
      if (signer !== user) return refused(call, 'InvalidVoucherSignature', [id, signer.address]);
      if (signedFor !== id) {
        const recovered = await recoverTypedDataAddress({
          domain: voucherDomain(c),
          types: voucherTypes,
          primaryType: 'Voucher',
          message: { channelId: id, node: node.address, cumulativeAmount: amount },
          signature: sig,
        });
        expect(recovered).not.toBe(user.address);
        return refused(call, 'InvalidVoucherSignature', [id, recovered]);
      }
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const key = `${id}:${amount}`;
            expect(m.paid.has(key), `voucher ${key} paid twice`).toBe(false);
            m.paid.add(key);
            const [event] = parseEventLogs({ abi: escrow.abi, logs: receipt.logs, eventName: 'VoucherRedeemed' });
            expect(event?.args).toEqual({
              channelId: id,
              node: node.address,
              cumulativeAmount: amount,
              amount: amount - redeemed,
            });
            ch.redeemed = amount;
            ch.lastRedeemed = sig;
          },
        },
      };
    }
    case 'close': {
      const who = op.byUser ? user : node;
      const call = () => send(c, who, { ...escrow, functionName: 'close', args: [id] });
      if (!ch) return refused(call, 'UnknownChannel', [id]);
      if (!op.byUser) return refused(call, 'NotChannelUser', [id, who.address]);
      if (ch.closed) return refused(call, 'ChannelClosed', [id]);
      if (now < ch.expiresAt) return refused(call, 'ChannelNotExpired', [id, ch.expiresAt]);
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const refund = ch.deposit - ch.redeemed;
            const [event] = parseEventLogs({ abi: escrow.abi, logs: receipt.logs, eventName: 'ChannelClosedByUser' });
            expect(event?.args).toEqual({ channelId: id, refund });
            ch.closed = true;
            m.wallet[ch.user] = at(m.wallet, ch.user) + refund;
          },
        },
      };
    }
  }
}

async function escrowStep(w: EscrowWorld, m: EscrowModel, op: EscrowOp): Promise<void> {
  const { c } = w;
  let now = (await c.clients.public.getBlock()).timestamp;
  if (op.op === 'advance') return warpTo(c, now + op.seconds);
  if (op.op === 'close' && op.warp && !op.unknown && m.channels.length > 0) {
    const target = at(m.channels, op.ch % m.channels.length).expiresAt + op.delta;
    if (target > now) {
      await warpTo(c, target);
      now = target;
    }
  }
  await run(c, await planEscrow(w, m, op, now), now);
}

async function escrowCheck(w: EscrowWorld, m: EscrowModel): Promise<void> {
  const { c, reader } = w;
  const escrow = escrowOf(c);
  const distributor = distributorOf(c);
  const [held, fees, distributorHeld, count, wallets, channels] = await Promise.all([
    balanceOf(reader, c, escrow.address),
    reader.readContract({ ...distributor, functionName: 'feesReceived' }),
    balanceOf(reader, c, distributor.address),
    reader.readContract({ ...escrow, functionName: 'channelCount' }),
    Promise.all(w.users.map((u) => balanceOf(reader, c, u.address))),
    Promise.all(m.channels.map((ch) => reader.readContract({ ...escrow, functionName: 'getChannel', args: [ch.id] }))),
  ]);
  const redeemed = m.redeemedTotal();
  expect(held, 'the escrow holds Σ(deposit − redeemed) of open channels').toBe(m.held());
  expect(fees - w.feesBefore, 'feesReceived grew by Σ redeemed').toBe(redeemed);
  expect(distributorHeld - w.distributorBefore, 'the distributor received Σ redeemed').toBe(redeemed);
  expect(count).toBe(BigInt(m.channels.length));
  expect(wallets, 'user wallets').toEqual(m.wallet);
  for (const [i, ch] of m.channels.entries()) {
    const onChain = channels[i];
    expect(onChain && { ...onChain }, `channel ${ch.id}`).toEqual({
      user: at(w.users, ch.user).address,
      node: at(w.nodes, ch.node).address,
      deposit: ch.deposit,
      redeemed: ch.redeemed,
      expiresAt: ch.expiresAt,
      closed: ch.closed,
    });
    expect(ch.redeemed <= ch.deposit, `channel ${ch.id}: redeemed ≤ deposit`).toBe(true);
  }
}

// ===================================================================================== 2. RewardDistributor

const PAYEES = 4;
const PAYEE_ADDRESSES: Address[] = Array.from({ length: PAYEES }, (_, i) =>
  privateKeyToAddress(keccak256(stringToHex(`settlement property payee ${i}`))),
);
const INITIAL_FEES = 5_000n * OPEN;
const ATTESTOR_STAKE = 20_000n * OPEN;

interface Tree {
  root: Hex;
  total: bigint;
  amounts: bigint[];
  proof(i: number): Hex[];
}
function buildTree(amounts: bigint[]): Tree {
  const leaf = (i: number) => standardLeaf(['address', 'uint256'], [at(PAYEE_ADDRESSES, i), at(amounts, i)]);
  const tree = merkleTree(amounts.map((_, i) => leaf(i)));
  return {
    root: tree.root,
    total: amounts.reduce((s, a) => s + a, 0n),
    amounts: [...amounts],
    proof: (i) => tree.proof(leaf(i)),
  };
}

interface EpochModel {
  tree: Tree;
  finalAt: bigint;
  challenged: boolean;
  bond: bigint;
}

class DistributorModel {
  readonly epochs: EpochModel[] = [];
  /** Every tree ever posted or used as a correction (claims may use any of them: stale proofs). */
  readonly trees: Tree[] = [];
  readonly claimed: bigint[] = Array.from({ length: PAYEES }, () => 0n);
  finalized = 0;
  fees = INITIAL_FEES;
  heldBond = 0n;
  toTreasury = 0n;
  slashable = ATTESTOR_STAKE;
  upheld = 0;

  epoch(n: number): EpochModel {
    return at(this.epochs, n - 1);
  }
  claimRoot(): Hex {
    return this.finalized === 0 ? zeroHash : this.epoch(this.finalized).tree.root;
  }
  /** Cumulative payouts of the newest posted epoch (zero before any). */
  latest(): bigint[] {
    return this.epochs.at(-1)?.tree.amounts ?? PAYEE_ADDRESSES.map(() => 0n);
  }
  totalOf(n: number): bigint {
    return n === 0 ? 0n : this.epoch(n).tree.total;
  }
}

type PostMode = 'ok' | 'decrease' | 'exceed' | 'outOfOrder' | 'notAttestor';
type TreeSource =
  /** A tree from everything ever built, by index (often not the claim root: a stale or pending proof). */
  | { kind: 'any'; pick: number }
  /** The finalized tree. */
  | { kind: 'final' }
  /** The finalized tree's proof with the amount plus one. */
  | { kind: 'inflated' };
type DistributorOp =
  | { op: 'post'; increments: bigint[]; mode: PostMode; pick: number }
  | { op: 'finalize'; which: number }
  | { op: 'claim'; payee: number; source: TreeSource }
  | { op: 'claimMany'; payees: number[]; source: TreeSource }
  | { op: 'challenge'; byStaker: boolean; which: number }
  | { op: 'resolve'; upheld: boolean; increments: bigint[]; exceed: boolean; slash: bigint; which: number }
  | { op: 'addFees'; amount: bigint }
  | { op: 'toFinal'; delta: bigint }
  | { op: 'advance'; seconds: bigint };

const incrementsArb = fc.array(
  fc.oneof(
    { arbitrary: fc.constant(0n), weight: 2 },
    { arbitrary: fc.bigInt(1n, 400n * OPEN), weight: 5 },
    { arbitrary: fc.bigInt(1n, 1_000n), weight: 1 },
  ),
  { minLength: PAYEES, maxLength: PAYEES },
);
const sourceArb: fc.Arbitrary<TreeSource> = fc.oneof(
  { arbitrary: fc.constant<TreeSource>({ kind: 'final' }), weight: 4 },
  { arbitrary: fc.nat().map((pick): TreeSource => ({ kind: 'any', pick })), weight: 3 },
  { arbitrary: fc.constant<TreeSource>({ kind: 'inflated' }), weight: 1 },
);
/** Which epoch an op names: 0 → the newest, 1 → the newest + 1, 2 → the finalized one, 3+ → arbitrary (mod). */
const whichArb = fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.nat({ max: 6 }), weight: 2 });
const distributorOpArb: fc.Arbitrary<DistributorOp> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('post' as const),
      increments: incrementsArb,
      mode: fc.oneof(
        { arbitrary: fc.constant<PostMode>('ok'), weight: 12 },
        { arbitrary: fc.constantFrom<PostMode>('decrease', 'exceed', 'outOfOrder', 'notAttestor'), weight: 3 },
      ),
      pick: fc.nat({ max: PAYEES - 1 }),
    }),
    weight: 5,
  },
  { arbitrary: fc.record({ op: fc.constant('finalize' as const), which: whichArb }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('claim' as const), payee: fc.nat({ max: PAYEES - 1 }), source: sourceArb }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('claimMany' as const),
      payees: fc.array(fc.nat({ max: PAYEES - 1 }), { minLength: 1, maxLength: PAYEES }),
      source: sourceArb,
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ op: fc.constant('challenge' as const), byStaker: mostly(8), which: whichArb }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('resolve' as const),
      upheld: fc.boolean(),
      increments: incrementsArb,
      exceed: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
      slash: fc.oneof(fc.constant(0n), fc.bigInt(1n, 100n * OPEN)),
      which: whichArb,
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('addFees' as const), amount: fc.bigInt(1n, 2_000n * OPEN) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constant('toFinal' as const), delta: fc.constantFrom(-1n, 0n, 1n, 60n) }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), seconds: fc.bigInt(1n, DAY) }), weight: 1 },
);

interface DistributorWorld {
  c: TestChain;
  reader: PublicClient;
  attestor: HDAccount;
  challenger: HDAccount;
  claimer: HDAccount;
  payer: HDAccount;
  node: HDAccount;
  timelock: Address;
  channelId: bigint;
  treasuryBefore: bigint;
}

/** The epoch number an op names (see whichArb). */
function named(m: DistributorModel, which: number): number {
  const count = m.epochs.length;
  if (which === 0) return count;
  if (which === 1) return count + 1;
  if (which === 2) return m.finalized;
  return which % (count + 2);
}

function treeFor(m: DistributorModel, source: TreeSource): { tree: Tree | undefined; inflate: boolean } {
  switch (source.kind) {
    case 'final':
      return { tree: m.finalized === 0 ? m.trees.at(-1) : m.epoch(m.finalized).tree, inflate: false };
    case 'inflated':
      return { tree: m.finalized === 0 ? m.trees.at(-1) : m.epoch(m.finalized).tree, inflate: true };
    case 'any':
      return { tree: m.trees[source.pick % Math.max(m.trees.length, 1)], inflate: false };
  }
}

/** What one claim of payee `i` for `amount` does to `claimed`: an error, or the amount paid. */
function claimOutcome(
  m: DistributorModel,
  claimed: bigint[],
  i: number,
  tree: Tree,
  amount: bigint,
): { error: string; args: unknown[] } | { paid: bigint } {
  const account = at(PAYEE_ADDRESSES, i);
  const valid = tree.root === m.claimRoot() && amount === at(tree.amounts, i);
  if (!valid) return { error: 'InvalidProof', args: [account, amount] };
  const already = at(claimed, i);
  if (amount <= already) return { error: 'NothingToClaim', args: [account, already] };
  claimed[i] = amount;
  return { paid: amount - already };
}

async function planDistributor(
  w: DistributorWorld,
  m: DistributorModel,
  op: Exclude<DistributorOp, { op: 'toFinal' } | { op: 'advance' }>,
  now: bigint,
): Promise<Planned | undefined> {
  const { c } = w;
  const d = distributorOf(c);
  const count = m.epochs.length;
  switch (op.op) {
    case 'post': {
      const previous = m.latest();
      let amounts = previous.map((a, i) => a + at(op.increments, i));
      if (op.mode === 'decrease') {
        // One account goes down, nobody goes up: the total decreases (unless there is nothing to decrease).
        amounts = previous.map((a, i) => (i === op.pick && a > 0n ? a - 1n - (at(op.increments, 0) % a) : a));
      }
      if (op.mode === 'exceed') {
        const rest = amounts.reduce((s, a) => s + a, 0n) - at(amounts, op.pick);
        const over = m.fees - rest + 1n + at(op.increments, 0);
        amounts = amounts.map((a, i) => (i === op.pick ? (over > a ? over : a) : a));
      }
      const tree = buildTree(amounts);
      // Even a refused post leaves a tree behind: its proofs are among those claims may try.
      m.trees.push(tree);
      const skipAhead = op.pick % 2 === 0;
      const epoch = op.mode === 'outOfOrder' ? (skipAhead ? BigInt(count + 2) : 0n) : BigInt(count + 1);
      const who = op.mode === 'notAttestor' ? w.claimer : w.attestor;
      const call = () =>
        send(c, who, {
          ...d,
          functionName: 'postEpoch',
          args: [epoch, tree.root, tree.total, keccak256(stringToHex(`receipts ${epoch}`)), `cid-${epoch}`],
        });
      if (op.mode === 'notAttestor') return refused(call, 'NotAttestor', [who.address]);
      if (epoch !== BigInt(count + 1)) return refused(call, 'EpochOutOfOrder', [BigInt(count + 1), epoch]);
      let finalizesPrevious = false;
      if (count > 0 && m.finalized < count) {
        const prev = m.epoch(count);
        if (prev.challenged || now < prev.finalAt)
          return refused(call, 'PreviousEpochNotFinal', [BigInt(count), prev.finalAt, prev.challenged]);
        finalizesPrevious = true;
      }
      const previousTotal = m.totalOf(count);
      if (tree.total < previousTotal) return refused(call, 'TotalDecreased', [previousTotal, tree.total]);
      if (tree.total > m.fees) return refused(call, 'ExceedsFees', [tree.total, m.fees]);
      return {
        send: call,
        expect: {
          apply: (t, receipt) => {
            const finalized = parseEventLogs({ abi: d.abi, logs: receipt.logs, eventName: 'EpochFinalized' });
            expect(finalized.map((e) => e.args.epoch)).toEqual(finalizesPrevious ? [BigInt(count)] : []);
            if (finalizesPrevious) m.finalized = count;
            m.epochs.push({ tree, finalAt: t + WINDOW, challenged: false, bond: 0n });
          },
        },
      };
    }
    case 'finalize': {
      const n = named(m, op.which);
      const call = () => send(c, w.claimer, { ...d, functionName: 'finalize', args: [BigInt(n)] });
      if (n === 0 || n > count) return refused(call, 'UnknownEpoch', [BigInt(n)]);
      const e = m.epoch(n);
      if (n !== m.finalized + 1 || e.challenged || now < e.finalAt)
        return refused(call, 'NotFinal', [BigInt(n), e.finalAt, e.challenged]);
      return {
        send: call,
        expect: {
          apply: () => {
            m.finalized = n;
          },
        },
      };
    }
    case 'claim':
    case 'claimMany': {
      const { tree, inflate } = treeFor(m, op.source);
      if (!tree) return undefined;
      const payees = op.op === 'claim' ? [op.payee] : op.payees;
      const amounts = payees.map((i) => at(tree.amounts, i) + (inflate ? 1n : 0n));
      const proofs = payees.map((i) => tree.proof(i));
      const accounts = payees.map((i) => at(PAYEE_ADDRESSES, i));
      const call =
        op.op === 'claim'
          ? () =>
              send(c, w.claimer, {
                ...d,
                functionName: 'claim',
                args: [at(accounts, 0), at(amounts, 0), at(proofs, 0)],
              })
          : () => send(c, w.claimer, { ...d, functionName: 'claimMany', args: [accounts, amounts, proofs] });
      const claimed = [...m.claimed];
      const paid: bigint[] = [];
      for (const [k, i] of payees.entries()) {
        const outcome = claimOutcome(m, claimed, i, tree, at(amounts, k));
        if ('error' in outcome) return refused(call, outcome.error, outcome.args);
        paid.push(outcome.paid);
      }
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const events = parseEventLogs({ abi: d.abi, logs: receipt.logs, eventName: 'Claimed' });
            expect(events.map((e) => e.args)).toEqual(
              payees.map((i, k) => ({
                account: at(PAYEE_ADDRESSES, i),
                epoch: BigInt(m.finalized),
                amount: at(paid, k),
                cumulative: at(amounts, k),
              })),
            );
            m.claimed.splice(0, PAYEES, ...claimed);
          },
        },
      };
    }
    case 'challenge': {
      const n = named(m, op.which);
      const who = op.byStaker ? w.challenger : w.claimer;
      const call = () => send(c, who, { ...d, functionName: 'challenge', args: [BigInt(n)] });
      if (!op.byStaker) return refused(call, 'NotStaker', [who.address]);
      if (n === 0 || n > count) return refused(call, 'UnknownEpoch', [BigInt(n)]);
      const e = m.epoch(n);
      if (e.challenged) return refused(call, 'AlreadyChallenged', [BigInt(n)]);
      if (n !== count || n <= m.finalized || now >= e.finalAt) return refused(call, 'NotChallengeable', [BigInt(n)]);
      return {
        send: call,
        expect: {
          apply: () => {
            e.challenged = true;
            e.bond = BOND;
            m.heldBond += BOND;
          },
        },
      };
    }
    case 'resolve': {
      const n = named(m, op.which);
      const base = n >= 1 && n <= count ? (n === 1 ? PAYEE_ADDRESSES.map(() => 0n) : m.epoch(n - 1).tree.amounts) : [];
      let amounts = base.map((a, i) => a + at(op.increments, i));
      if (op.exceed && amounts.length > 0) amounts = amounts.map((a, i) => (i === 0 ? a + m.fees + 1n : a));
      const tree = amounts.length > 0 ? buildTree(amounts) : buildTree(PAYEE_ADDRESSES.map(() => 0n));
      const fix = {
        payoutRoot: tree.root,
        cumulativeTotal: tree.total,
        receiptsRoot: keccak256(stringToHex(`corrected receipts ${n}`)),
        receiptsCID: `cid-${n}-corrected`,
      };
      const call = () =>
        send(c, w.timelock, { ...d, functionName: 'resolveChallenge', args: [BigInt(n), op.upheld, fix, op.slash] });
      if (n === 0 || n > count) return refused(call, 'UnknownEpoch', [BigInt(n)]);
      const e = m.epoch(n);
      if (!e.challenged) return refused(call, 'NotChallenged', [BigInt(n)]);
      if (op.upheld) {
        const previousTotal = m.totalOf(n - 1);
        if (tree.total < previousTotal) return refused(call, 'TotalDecreased', [previousTotal, tree.total]);
        if (tree.total > m.fees) return refused(call, 'ExceedsFees', [tree.total, m.fees]);
      }
      return {
        send: call,
        expect: {
          apply: (t, receipt) => {
            const bond = e.bond;
            m.heldBond -= bond;
            e.bond = 0n;
            e.challenged = false;
            e.finalAt = t;
            if (op.upheld) {
              const slashed = op.slash < m.slashable ? op.slash : m.slashable;
              const [upheld] = parseEventLogs({ abi: d.abi, logs: receipt.logs, eventName: 'ChallengeUpheld' });
              expect(upheld?.args).toEqual({ epoch: BigInt(n), oldRoot: e.tree.root, newRoot: tree.root, slashed });
              const slashes = parseEventLogs({ abi: StakingArtifact.abi, logs: receipt.logs, eventName: 'Slashed' });
              expect(slashes.map((s) => s.args.amount)).toEqual(slashed > 0n ? [slashed] : []);
              m.slashable -= slashed;
              m.upheld += 1;
              m.toTreasury += slashed;
              e.tree = tree;
              m.trees.push(tree);
            } else {
              const [rejected] = parseEventLogs({ abi: d.abi, logs: receipt.logs, eventName: 'ChallengeRejected' });
              expect(rejected?.args).toEqual({ epoch: BigInt(n), bondForfeited: bond });
              m.toTreasury += bond;
            }
            m.finalized = n;
          },
        },
      };
    }
    case 'addFees': {
      const channel = await w.reader.readContract({
        ...escrowOf(c),
        functionName: 'getChannel',
        args: [w.channelId],
      });
      const cumulativeAmount = channel.redeemed + op.amount;
      const signature = await signVoucher(c, w.payer, {
        channelId: w.channelId,
        node: w.node.address,
        cumulativeAmount,
      });
      return {
        send: () =>
          send(c, w.node, {
            ...escrowOf(c),
            functionName: 'redeem',
            args: [w.channelId, cumulativeAmount, signature],
          }),
        expect: {
          apply: () => {
            m.fees += op.amount;
          },
        },
      };
    }
  }
}

async function distributorStep(w: DistributorWorld, m: DistributorModel, op: DistributorOp): Promise<void> {
  const { c } = w;
  const now = (await c.clients.public.getBlock()).timestamp;
  if (op.op === 'advance') return warpTo(c, now + op.seconds);
  if (op.op === 'toFinal') {
    const newest = m.epochs.at(-1);
    const target = newest ? newest.finalAt + op.delta : now + 1n;
    if (target > now) await warpTo(c, target);
    return;
  }
  const planned = await planDistributor(w, m, op, now);
  if (planned) await run(c, planned, now);
}

async function distributorCheck(w: DistributorWorld, m: DistributorModel): Promise<void> {
  const { c, reader } = w;
  const d = distributorOf(c);
  const [held, fees, count, finalized, claimRoot, claimed, received, treasury, epochs] = await Promise.all([
    balanceOf(reader, c, d.address),
    reader.readContract({ ...d, functionName: 'feesReceived' }),
    reader.readContract({ ...d, functionName: 'epochCount' }),
    reader.readContract({ ...d, functionName: 'finalizedEpoch' }),
    reader.readContract({ ...d, functionName: 'claimRoot' }),
    Promise.all(PAYEE_ADDRESSES.map((a) => reader.readContract({ ...d, functionName: 'claimed', args: [a] }))),
    Promise.all(PAYEE_ADDRESSES.map((a) => balanceOf(reader, c, a))),
    balanceOf(reader, c, w.timelock),
    Promise.all(m.epochs.map((_, i) => reader.readContract({ ...d, functionName: 'getEpoch', args: [BigInt(i + 1)] }))),
  ]);
  const totalClaimed = m.claimed.reduce((s, a) => s + a, 0n);
  expect(fees, 'feesReceived').toBe(m.fees);
  expect(held, 'the distributor holds feesReceived − Σ claimed (+ a pending bond)').toBe(
    fees - totalClaimed + m.heldBond,
  );
  expect(count, 'epochCount').toBe(BigInt(m.epochs.length));
  expect(finalized, 'finalizedEpoch').toBe(BigInt(m.finalized));
  expect(claimRoot, 'claimRoot').toBe(m.claimRoot());
  expect(claimed, 'claimed').toEqual(m.claimed);
  expect(received, 'payees received exactly what they claimed').toEqual(m.claimed);
  expect(treasury - w.treasuryBefore, 'the treasury got forfeited bonds and slashes').toBe(m.toTreasury);
  const entitlement = m.finalized === 0 ? PAYEE_ADDRESSES.map(() => 0n) : m.epoch(m.finalized).tree.amounts;
  for (const [i, a] of m.claimed.entries())
    expect(a <= at(entitlement, i), `payee ${i} claimed ${a}, entitled to ${at(entitlement, i)}`).toBe(true);
  expect(totalClaimed <= m.totalOf(m.finalized), 'Σ claimed ≤ the finalized cumulative total').toBe(true);
  for (const [i, e] of m.epochs.entries()) {
    const onChain = epochs[i];
    expect(
      onChain && {
        payoutRoot: onChain.payoutRoot,
        cumulativeTotal: onChain.cumulativeTotal,
        finalAt: onChain.finalAt,
        challenged: onChain.challenged,
        bond: onChain.bond,
      },
      `epoch ${i + 1}`,
    ).toEqual({
      payoutRoot: e.tree.root,
      cumulativeTotal: e.tree.total,
      finalAt: e.finalAt,
      challenged: e.challenged,
      bond: e.bond,
    });
  }
}

// ================================================================================================== the tests

async function withSnapshot(c: TestChain, body: () => Promise<void>): Promise<void> {
  const test = c.clients.test();
  const snapshot = await test.snapshot();
  try {
    await body();
  } finally {
    await test.revert({ id: snapshot });
  }
}

describe('Settlement (model-based)', () => {
  it('InferenceEscrow: no voucher pays twice or beyond its deposit; every OPEN is accounted for', async () => {
    const c = chain();
    const [u0, u1, n0, n1, stranger] = c.users as [HDAccount, HDAccount, HDAccount, HDAccount, HDAccount];
    const users = [u0, u1];
    for (const u of users) {
      await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [u.address, WALLET] });
      await send(c, u, { ...c.token, functionName: 'approve', args: [escrowOf(c).address, maxUint256] });
    }
    const reader = batchReader(c);
    const w: EscrowWorld = {
      c,
      reader,
      users,
      nodes: [n0, n1],
      stranger,
      feesBefore: await reader.readContract({ ...distributorOf(c), functionName: 'feesReceived' }),
      distributorBefore: await balanceOf(reader, c, distributorOf(c).address),
    };
    let redemptions = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(escrowOpArb, { minLength: 8, maxLength: 24 }), (ops) =>
        withSnapshot(c, async () => {
          const m = new EscrowModel();
          // Every run starts with one channel per user, so that most operations act on a channel.
          const seed: EscrowOp[] = [
            { op: 'open', user: 0, node: 0, amount: { kind: 'abs', value: 200n * OPEN }, duration: DAY },
            { op: 'open', user: 1, node: 1, amount: { kind: 'abs', value: 50n * OPEN }, duration: 2n * DAY },
          ];
          for (const op of [...seed, ...ops]) {
            await escrowStep(w, m, op);
            await escrowCheck(w, m);
          }
          redemptions += m.paid.size;
        }),
      ),
      { numRuns: 30 },
    );
    // The generator reaches paying states, not only refusals.
    expect(redemptions).toBeGreaterThan(30);
  });

  it('RewardDistributor: nobody gets more than the finalized entitlement; balances always add up', async () => {
    const c = chain();
    const [payer, node, , claimer, challenger, attestor] = c.users as [
      HDAccount,
      HDAccount,
      HDAccount,
      HDAccount,
      HDAccount,
      HDAccount,
    ];
    const escrow = escrowOf(c);
    const d = distributorOf(c);
    // Fees in through a channel, a validator attestor, a staked challenger with bonds approved.
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [payer.address, 1_000_000n * OPEN] });
    await send(c, payer, { ...c.token, functionName: 'approve', args: [escrow.address, maxUint256] });
    await send(c, payer, {
      ...escrow,
      functionName: 'openChannel',
      args: [node.address, 1_000_000n * OPEN, 365n * DAY],
    });
    const channelId = await c.clients.public.readContract({ ...escrow, functionName: 'channelCount' });
    const first = await signVoucher(c, payer, { channelId, node: node.address, cumulativeAmount: INITIAL_FEES });
    await send(c, node, { ...escrow, functionName: 'redeem', args: [channelId, INITIAL_FEES, first] });
    for (const [who, role, amount] of [
      [attestor, stakingRoles.validator, ATTESTOR_STAKE],
      [challenger, stakingRoles.agent, 100n * OPEN],
    ] as const) {
      await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
      await send(c, who, { ...c.token, functionName: 'approve', args: [c.staking.address, maxUint256] });
      await send(c, who, { ...c.staking, functionName: 'stake', args: [role, amount] });
    }
    await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [challenger.address, 100n * BOND] });
    await send(c, challenger, { ...c.token, functionName: 'approve', args: [d.address, maxUint256] });
    const timelock = await c.impersonate(c.timelock.address);
    expect(
      await c.clients.public.readContract({ ...d, functionName: 'hasRole', args: [roleIds.RESOLVER, timelock] }),
    ).toBe(true);
    const reader = batchReader(c);
    const w: DistributorWorld = {
      c,
      reader,
      attestor,
      challenger,
      claimer,
      payer,
      node,
      timelock,
      channelId,
      treasuryBefore: await balanceOf(reader, c, c.timelock.address),
    };
    expect(await reader.readContract({ ...d, functionName: 'feesReceived' })).toBe(INITIAL_FEES);

    const reached = { finalized: 0, claims: 0, upheld: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(distributorOpArb, { minLength: 10, maxLength: 30 }), (ops) =>
        withSnapshot(c, async () => {
          const m = new DistributorModel();
          // Every run starts with a final epoch 1 and an epoch 2 in its window, reached like any other steps.
          const seed: DistributorOp[] = [
            { op: 'post', increments: [OPEN, 2n * OPEN, 0n, 3n], mode: 'ok', pick: 0 },
            { op: 'toFinal', delta: 0n },
            { op: 'post', increments: [OPEN, 0n, 5n * OPEN, 1n], mode: 'ok', pick: 0 },
          ];
          for (const op of [...seed, ...ops]) {
            await distributorStep(w, m, op);
            await distributorCheck(w, m);
          }
          reached.finalized += m.finalized;
          reached.claims += m.claimed.filter((a) => a > 0n).length;
          reached.upheld += m.upheld;
          console.log(m.upheld);
        }),
      ),
      { numRuns: 30 },
    );
    // The generator reaches final epochs and paying claims, not only refusals.
    expect(reached.finalized).toBeGreaterThan(10);
    expect(reached.claims).toBeGreaterThan(10);
    expect(reached.upheld).toBeGreaterThan(0);
  });
});
