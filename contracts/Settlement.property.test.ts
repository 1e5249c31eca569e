/**
 * Adversarial property tests of settlement (InferenceEscrow → RewardDistributor ← Staking) against a real anvil.
 *
 * fast-check generates command sequences in which three serving nodes redeem fees from channels and post epochs
 * — node 0 always honestly, nodes 1 and 2 also dishonestly: roots with a leaf above the declared total, leaves
 * that lower an account below the node's previous final root, leaves that add up to more than the declared total,
 * totals above the node's fees or stake, out-of-order epochs — while they race requestUnstake / withdraw against
 * their pending epochs, users try to close channels early, a staked watcher challenges (honest epochs too),
 * governance (the impersonated timelock) upholds, rejects or never resolves, time jumps past windows, unbonding
 * and resolution deadlines, watchers send fraud proofs, and anyone claims (claim and claimMany across nodes,
 * with stale, foreign and inflated proofs).
 *
 * Each command's outcome is predicted from the chain state before it (a revert with the exact custom error, or
 * success) and safety is asserted DIRECTLY after every command, from the chain:
 * - no claim pays an account beyond its leaf under the node's final root (claimed ≤ the largest final leaf);
 * - per node: claimed ≤ final declared total ≤ fees the node redeemed; payees hold exactly what they claimed;
 * - the distributor's balance = Σ(fees − claimed) + bondsHeld (never pays beyond fees; bonds stay apart);
 * - an upheld challenge or a fraud proof slashes at least everything the epoch's root could pay out (its declared
 *   total less what the node's payees had claimed when it was posted: the locked stake), whatever the node
 *   unstaked or withdrew in between (Slashed events = stake delta). A root that merely moves unclaimed amounts
 *   between accounts (adds nothing to the declared total) thus locks, and proven fraudulent loses, those amounts;
 * - lockedOf ≤ stakeOf ≤ slashable, the lock is exactly what the pending epoch's root could pay out, and no
 *   requestUnstake succeeds that would leave less active stake than is locked;
 * - a user never closes a channel before expiry + grace, and a node can redeem until the channel is closed;
 * - liveness: at the end of every run, once time passes, every node (restaking if it left, or if what its final root
 *   could still pay out outgrew its stake) posts its next epoch:
 *   its previous epoch always ends final or void (an unresolved challenge cannot wedge it), and every payee of the
 *   honest node 0 can then claim its whole final leaf (another node's fraud never takes node 0's fees).
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
  stringToHex,
  type TransactionReceipt,
  zeroHash,
} from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { beforeAll, describe, expect, it } from 'vitest';
import { merkleTree, OPEN, roleIds, stakingRoles, standardLeaf } from '../src/chain/index.js';
import { BaseError } from '../src/core/index.js';
import { send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';
import { config, distributor, distributorEvents, escrow, stake, stakingEvents } from '../test/fixtures/settlement.js';

const chain = useTestChain();

const VALIDATOR = stakingRoles.validator;
const PENDING = 1;
const CHALLENGED = 2;
const FINAL = 3;
const VOID = 4;
const NODES = 3;
/** Node 0 only ever posts honest epochs; nodes 1 and 2 may lie. */
const HONEST = 0;
const PAYEES = 4;
const PAYEE: Address[] = Array.from({ length: PAYEES }, (_, i) =>
  privateKeyToAddress(keccak256(stringToHex(`settlement property payee ${i}`))),
);
/** Validator stake per node: node 2 is barely above the 10,000 OPEN minimum, so fees can outgrow its stake. */
const NODE_STAKE = [30_000n * OPEN, 16_000n * OPEN, 10_500n * OPEN];
/** Fees every node has redeemed (from its long channel) when a run starts. */
const INITIAL_FEES = [4_000n * OPEN, 5_000n * OPEN, 3_000n * OPEN];
const BASE_DEPOSIT = 200_000n * OPEN;

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);
const sum = (xs: readonly bigint[]) => xs.reduce((s, x) => s + x, 0n);
const key = (h: Hex) => h.toLowerCase() as Hex;

// ----------------------------------------------------------------------------------------------------- trees

/** A payout tree over the fixed payees, by cumulative amount. */
interface Tree {
  root: Hex;
  amounts: bigint[];
  proof(payee: number): Hex[];
}
const leafOf = (payee: number, amount: bigint) => standardLeaf(['address', 'uint256'], [PAYEE[payee]!, amount]);
function buildTree(amounts: bigint[]): Tree {
  const t = merkleTree(amounts.map((a, i) => leafOf(i, a)));
  return { root: key(t.root), amounts: [...amounts], proof: (i) => t.proof(leafOf(i, amounts[i]!)) };
}
const ZERO_AMOUNTS = () => Array.from({ length: PAYEES }, () => 0n);

// ----------------------------------------------------------------------------------------------------- model

/** What the test knows about one posted epoch (the chain knows the rest). */
interface EpochRec {
  tree: Tree;
  declared: bigint;
  /**
   * declared − the node's claimed total when posted: everything the root could pay out, so what the epoch must lock
   * and, if fraudulent, lose.
   */
  atRisk: bigint;
  /** What an honest node would have posted instead (governance's correction). */
  honest: { tree: Tree; declared: bigint };
  isHonest: boolean;
}

interface ChannelRec {
  id: bigint;
  payer: number;
  node: number;
  deposit: bigint;
  redeemed: bigint;
  expiresAt: bigint;
  closed: boolean;
}

class Model {
  readonly epochs: Map<bigint, EpochRec>[] = Array.from({ length: NODES }, () => new Map());
  /** Every root ever built (posted, corrected, or refused), by root. */
  readonly trees = new Map<Hex, Tree>();
  /** Per node and payee: the largest leaf under any root that was ever the node's final root. */
  readonly entitled: bigint[][] = Array.from({ length: NODES }, ZERO_AMOUNTS);
  /** Whether the node requested an unstake while an epoch of it was pending (a race against its lock). */
  readonly raced: boolean[] = Array.from({ length: NODES }, () => false);
  constructor(readonly channels: ChannelRec[]) {}
  tree(amounts: bigint[]): Tree {
    const t = buildTree(amounts);
    this.trees.set(t.root, t);
    return t;
  }
  /** The amounts under `root` (zeros for the empty root); throws for a root the test never built. */
  amountsOf(root: Hex): bigint[] {
    if (root === zeroHash) return ZERO_AMOUNTS();
    const t = this.trees.get(key(root));
    if (!t) throw new Error(`unknown root ${root}`);
    return t.amounts;
  }
}

/** Counters of what the generators reached, so a property cannot pass by only producing refusals. */
type Stats = Map<string, number>;
const bump = (s: Stats, k: string) => s.set(k, (s.get(k) ?? 0) + 1);
const count = (s: Stats, k: string) => s.get(k) ?? 0;

// ------------------------------------------------------------------------------------------------------ world

interface Terms {
  window: bigint;
  bond: bigint;
  resolution: bigint;
  unbonding: bigint;
  grace: bigint;
  minimum: bigint;
}

interface World {
  c: TestChain;
  r: PublicClient;
  nodes: HDAccount[];
  payers: HDAccount[];
  /** A staked watcher: challenges, proves fraud, claims for others. */
  watcher: HDAccount;
  /** Holds no stake. */
  stranger: HDAccount;
  timelock: Address;
  treasury: Address;
  terms: Terms;
  stats: Stats;
}

interface EpochView {
  payoutRoot: Hex;
  cumulativeTotal: bigint;
  locked: bigint;
  finalAt: bigint;
  resolveBy: bigint;
  status: number;
  challenger: Address;
  bond: bigint;
}
interface NodeView {
  epochCount: bigint;
  finalizedEpoch: bigint;
  claimRoot: Hex;
  finalTotal: bigint;
  claimedTotal: bigint;
  fees: bigint;
  latest: EpochView | undefined;
  stake: bigint;
  locked: bigint;
  slashable: bigint;
  eligible: boolean;
  claimed: bigint[];
}
interface View {
  now: bigint;
  nodes: NodeView[];
  distributorBalance: bigint;
  bondsHeld: bigint;
  totalFees: bigint;
  escrowBalance: bigint;
  watcherBalance: bigint;
  treasuryBalance: bigint;
  payeeBalances: bigint[];
}

async function readView(w: World, m: Model): Promise<View> {
  const { c, r } = w;
  const d = distributor(c);
  const bal = (a: Address) => r.readContract({ ...c.token, functionName: 'balanceOf', args: [a] });
  // One JSON-RPC batch: the newest epoch is read at the count the model expects, and the count is checked.
  const perNode = (n: HDAccount, i: number) => {
    const count = BigInt(m.epochs[i]!.size);
    return Promise.all([
      r.readContract({ ...d, functionName: 'nodeState', args: [n.address] }),
      count === 0n ? undefined : r.readContract({ ...d, functionName: 'getEpoch', args: [n.address, count] }),
      r.readContract({ ...c.staking, functionName: 'stakeOf', args: [n.address, VALIDATOR] }),
      r.readContract({ ...c.staking, functionName: 'lockedOf', args: [n.address, VALIDATOR] }),
      r.readContract({ ...c.staking, functionName: 'slashableOf', args: [n.address, VALIDATOR] }),
      r.readContract({ ...c.staking, functionName: 'isEligible', args: [n.address, VALIDATOR] }),
      Promise.all(PAYEE.map((p) => r.readContract({ ...d, functionName: 'claimed', args: [n.address, p] }))),
    ]);
  };
  const [
    block,
    nodes,
    distributorBalance,
    bondsHeld,
    totalFees,
    escrowBalance,
    watcherBalance,
    treasuryBalance,
    payeeBalances,
  ] = await Promise.all([
    r.getBlock(),
    Promise.all(w.nodes.map(perNode)),
    bal(d.address),
    r.readContract({ ...d, functionName: 'bondsHeld' }),
    r.readContract({ ...d, functionName: 'totalFeesReceived' }),
    bal(escrow(c).address),
    bal(w.watcher.address),
    bal(w.treasury),
    Promise.all(PAYEE.map(bal)),
  ]);
  for (const [i, [s]] of nodes.entries()) {
    expect(s.epochCount, `node ${i}: epochs posted`).toBe(BigInt(m.epochs[i]!.size));
  }
  return {
    now: block.timestamp,
    nodes: nodes.map(([s, e, stake, locked, slashable, eligible, claimed]) => {
      return {
        epochCount: s.epochCount,
        finalizedEpoch: s.finalizedEpoch,
        claimRoot: key(s.claimRoot),
        finalTotal: s.finalTotal,
        claimedTotal: s.claimedTotal,
        fees: s.feesReceived,
        latest: e && {
          payoutRoot: key(e.payoutRoot),
          cumulativeTotal: e.cumulativeTotal,
          locked: e.locked,
          finalAt: e.finalAt,
          resolveBy: e.resolveBy,
          status: e.status,
          challenger: e.challenger,
          bond: e.bond,
        },
        stake,
        locked,
        slashable,
        eligible,
        claimed: [...claimed],
      };
    }),
    distributorBalance,
    bondsHeld,
    totalFees,
    escrowBalance,
    watcherBalance,
    treasuryBalance,
    payeeBalances,
  };
}

// ---------------------------------------------------------------------------------------------- invariants

/** Safety, read from the chain after every command. */
function checkInvariants(m: Model, prev: View, v: View): void {
  let feesSum = 0n;
  let owed = 0n;
  let bonds = 0n;
  const claimedByPayee = ZERO_AMOUNTS();
  for (const [i, n] of v.nodes.entries()) {
    const p = prev.nodes[i]!;
    const tag = `node ${i}`;
    expect(n.locked <= n.stake, `${tag}: lockedOf ${n.locked} ≤ stakeOf ${n.stake}`).toBe(true);
    expect(n.stake <= n.slashable, `${tag}: stake ≤ slashable`).toBe(true);
    const e = n.latest;
    const open = e !== undefined && (e.status === PENDING || e.status === CHALLENGED);
    expect(n.locked, `${tag}: the lock is exactly the pending epoch's`).toBe(open ? e.locked : 0n);
    if (open) {
      const rec = m.epochs[i]!.get(n.epochCount)!;
      expect(e.locked, `${tag}: a pending epoch locks all its root could pay out`).toBe(rec.atRisk);
      expect(e.payoutRoot, `${tag}: a pending epoch keeps its root`).toBe(rec.tree.root);
    }
    if (e?.status === FINAL) {
      expect(n.claimRoot, `${tag}: claims use the newest final root`).toBe(e.payoutRoot);
      expect(n.finalTotal).toBe(e.cumulativeTotal);
    }
    if (e?.status === CHALLENGED) bonds += e.bond;
    expect(n.claimedTotal <= n.finalTotal, `${tag}: claimed ${n.claimedTotal} ≤ declared ${n.finalTotal}`).toBe(true);
    expect(n.finalTotal <= n.fees, `${tag}: declared ${n.finalTotal} ≤ fees ${n.fees}`).toBe(true);
    expect(n.finalTotal >= p.finalTotal, `${tag}: the final total never goes down`).toBe(true);
    expect(sum(n.claimed), `${tag}: Σ claimed[node][·] = claimedTotal`).toBe(n.claimedTotal);
    const leaves = m.amountsOf(n.claimRoot);
    for (let a = 0; a < PAYEES; a++) {
      const ent = m.entitled[i]!;
      ent[a] = max(ent[a]!, leaves[a]!);
      expect(n.claimed[a]! <= ent[a]!, `${tag} payee ${a}: claimed ${n.claimed[a]} ≤ final leaf ${ent[a]}`).toBe(true);
      expect(n.claimed[a]! >= p.claimed[a]!, `${tag}: claims are cumulative`).toBe(true);
      claimedByPayee[a]! += n.claimed[a]!;
    }
    const redeemed = sum(m.channels.filter((ch) => ch.node === i).map((ch) => ch.redeemed));
    expect(n.fees, `${tag}: fees booked to the node = what its channels redeemed`).toBe(redeemed);
    feesSum += n.fees;
    owed += n.fees - n.claimedTotal;
  }
  expect(v.totalFees, 'totalFeesReceived = Σ node fees').toBe(feesSum);
  expect(v.bondsHeld, 'bondsHeld = bonds of challenged epochs').toBe(bonds);
  expect(v.distributorBalance >= owed + v.bondsHeld, 'the distributor never pays beyond fees or out of bonds').toBe(
    true,
  );
  expect(v.distributorBalance, 'distributor balance = Σ(fees − claimed) + bondsHeld').toBe(owed + v.bondsHeld);
  expect(v.payeeBalances, 'payees hold exactly what they claimed').toEqual(claimedByPayee);
  const held = sum(m.channels.filter((ch) => !ch.closed).map((ch) => ch.deposit - ch.redeemed));
  expect(v.escrowBalance, 'the escrow holds Σ(deposit − redeemed) of open channels').toBe(held);
}

// --------------------------------------------------------------------------------------------------- commands

type PostKind =
  | 'honest'
  | 'leafAboveTotal'
  | 'decrease'
  | 'inflated'
  | 'forged'
  | 'aboveFees'
  | 'aboveStake'
  | 'outOfOrder'
  /** The final root again, adding nothing (the liveness check's post for a node that lied before). */
  | 'keep';
type Source = 'final' | 'latest' | 'other' | 'inflated';
type UnstakeKind = 'all' | 'unlocked' | 'overUnlocked' | 'aboveMinimum' | 'half';
type WarpKind = 'window' | 'windowEdge' | 'resolution' | 'pastResolution' | 'unbonding' | 'small';
interface ClaimItem {
  node: number;
  payee: number;
  source: Source;
}
interface PostOp {
  op: 'post';
  node: number;
  kind: PostKind;
  /** Share (bps) of the fees not yet in the final root that an honest epoch would add. */
  share: bigint;
  weights: number[];
  pick: number;
  bump: bigint;
  /** For 'forged': leaves as bps of the fees, and the declared total as bps of what could be declared. */
  leaves: bigint[];
  declaredBps: bigint;
}
type Op =
  | { op: 'open'; payer: number; node: number; deposit: bigint; duration: bigint }
  | { op: 'redeem'; ch: number; bps: bigint }
  | { op: 'close'; ch: number; timing: 'now' | 'expiry' | 'inGrace' | 'afterGrace' }
  | PostOp
  | { op: 'finalize'; node: number }
  | { op: 'challenge'; node: number; byStaker: boolean; older: boolean }
  | { op: 'resolve'; node: number; verdict: 'correct' | 'uphold' | 'reject'; slash: bigint }
  | { op: 'resolveExpired'; node: number }
  /** payee −1: the most damning leaf. */
  | { op: 'proveLeafAboveTotal'; node: number; payee: number }
  | { op: 'proveDecrease'; node: number; payee: number }
  | ({ op: 'claim' } & ClaimItem)
  | { op: 'claimMany'; items: ClaimItem[] }
  | { op: 'unstake'; node: number; amount: UnstakeKind }
  | { op: 'withdraw'; node: number }
  | { op: 'warp'; node: number; to: WarpKind; seconds: bigint };

type After = (after: View) => void;
type Outcome =
  | { error: string; args?: readonly unknown[] }
  | { error?: undefined; ok: (receipt: TransactionReceipt) => After | undefined };
interface Planned {
  label: string;
  send: () => Promise<TransactionReceipt>;
  outcome: Outcome;
}
const refuse = (label: string, sendTx: () => Promise<TransactionReceipt>, error: string, args?: unknown[]): Planned =>
  args === undefined ? { label, send: sendTx, outcome: { error } } : { label, send: sendTx, outcome: { error, args } };

/** Sends a planned transaction and holds it to its predicted outcome. */
async function execute(w: World, p: Planned): Promise<After | undefined> {
  const res = await p.send().then(
    (receipt) => ({ receipt, error: undefined }),
    (error: unknown) => ({ receipt: undefined, error }),
  );
  if (p.outcome.error !== undefined) {
    const err = res.error as BaseError | undefined;
    if (err === undefined) {
      // Report after the invariants: what a transaction that should have been refused broke matters most.
      const expected = p.outcome.error;
      return () => expect.fail(`${p.label}: expected ${expected}, but it succeeded`);
    }
    expect(err).toBeInstanceOf(BaseError);
    expect(err?.details.error, `${p.label}: ${err?.message}`).toBe(p.outcome.error);
    if (p.outcome.args) {
      const args = p.outcome.args.map((a) => (typeof a === 'bigint' ? a.toString() : a));
      expect(err?.details.args, `${p.label}: ${err?.message}`).toEqual(args);
    }
    bump(w.stats, `refused:${p.outcome.error}`);
    return undefined;
  }
  if (res.error !== undefined) {
    const message = res.error instanceof Error ? res.error.message : String(res.error);
    expect.fail(`${p.label}: expected to succeed, but ${message}`);
  }
  return p.outcome.ok(res.receipt as TransactionReceipt);
}

/**
 * A slash must take at least what the root could pay out (the locked stake, which cannot have escaped): checks the
 * distributor's `slashed`, the Staking events and the stake delta against each other.
 */
function checkSlash(
  w: World,
  m: Model,
  v: View,
  i: number,
  rec: EpochRec,
  receipt: TransactionReceipt,
  slashed: bigint,
): After {
  const slashes = stakingEvents(receipt, 'Slashed');
  expect(sum(slashes.map((s) => s.amount)), 'Slashed events = slashed').toBe(slashed);
  for (const s of slashes) expect(s.staker).toBe(w.nodes[i]!.address);
  expect(slashed >= rec.atRisk, `node ${i}: slashed ${slashed} ≥ what the root could pay out ${rec.atRisk}`).toBe(true);
  const e = v.nodes[i]!.latest!;
  expect(slashed >= e.locked, `node ${i}: slashed ≥ lockedOf the epoch`).toBe(true);
  if (rec.atRisk > 0n) bump(w.stats, m.raced[i] ? 'slash:afterRace' : 'slash');
  return (after: View) => {
    expect(v.nodes[i]!.slashable - after.nodes[i]!.slashable, 'the stake lost exactly what was slashed').toBe(slashed);
    expect(after.treasuryBalance - v.treasuryBalance, 'the treasury got the slash').toBe(slashed);
  };
}

function split(x: bigint, weights: number[]): bigint[] {
  const ws = weights.map(BigInt);
  const total = sum(ws);
  if (total === 0n) return [x, ...ZERO_AMOUNTS().slice(1)];
  const parts = ws.map((wt) => (x * wt) / total);
  const first = ws.findIndex((wt) => wt > 0n);
  parts[first] = parts[first]! + x - sum(parts);
  return parts;
}

/** What the node's state is once its previous epoch is settled the way postEpoch settles it. */
function settled(v: View, i: number) {
  const n = v.nodes[i]!;
  const e = n.latest;
  let status = e?.status;
  let finalRoot = n.claimRoot;
  let finalTotal = n.finalTotal;
  let locked = n.locked;
  if (e && e.status === PENDING && v.now >= e.finalAt) {
    status = FINAL;
    finalRoot = e.payoutRoot;
    finalTotal = e.cumulativeTotal;
    locked -= min(locked, e.locked);
  } else if (e && e.status === CHALLENGED && v.now > e.resolveBy) {
    status = VOID;
    locked -= min(locked, e.locked);
  }
  return { status, finalRoot, finalTotal, unlocked: n.stake - locked };
}

function planPost(w: World, m: Model, v: View, op: PostOp): Planned {
  const { c } = w;
  const i = op.node;
  const n = v.nodes[i]!;
  const node = w.nodes[i]!;
  const kind: PostKind = i === HONEST && op.kind !== 'keep' ? 'honest' : op.kind;
  const expected = n.epochCount + 1n;
  const epoch = kind === 'outOfOrder' ? (op.pick % 2 === 0 ? expected + 1n : n.epochCount) : expected;
  const s = settled(v, i);
  const F = m.amountsOf(s.finalRoot);
  const base = max(sum(F), s.finalTotal);
  // Posting claims nothing: what the node's payees claimed so far is what the new root cannot pay again.
  const claimed = n.claimedTotal;
  const room = n.fees > base ? n.fees - base : 0n;
  // An honest epoch's root could pay out its base (less what was claimed) plus what it adds: keep that within stake.
  const stakeRoom = s.unlocked > base - claimed ? s.unlocked - (base - claimed) : 0n;
  const x = (min(room, stakeRoom) * op.share) / 10_000n;
  const honestAmounts = F.map((a, k) => a + split(x, op.weights)[k]!);
  const honestDeclared = max(sum(honestAmounts), s.finalTotal);
  let amounts = [...honestAmounts];
  let declared = honestDeclared;
  const j = op.pick % PAYEES;
  switch (kind) {
    case 'honest':
    case 'outOfOrder':
      break;
    case 'keep':
      amounts = [...F];
      declared = s.finalTotal;
      break;
    case 'leafAboveTotal':
      amounts[j] = declared + 1n + (op.bump % (1_000n * OPEN));
      break;
    case 'decrease': {
      const k = [0, 1, 2, 3].map((d) => (j + d) % PAYEES).find((q) => F[q]! > 0n);
      if (k === undefined) {
        amounts[j] = declared + 1n;
        break;
      }
      const lowered = F[k]! - 1n - (op.bump % F[k]!);
      const other = (k + 1) % PAYEES;
      amounts[other] = amounts[other]! + amounts[k]! - lowered;
      amounts[k] = lowered;
      break;
    }
    case 'inflated':
      amounts = amounts.map((a) => min(2n * a + (op.bump % OPEN), declared));
      break;
    case 'forged': {
      amounts = op.leaves.map((bps) => (n.fees * bps) / 10_000n);
      const ceiling = max(s.finalTotal, min(n.fees, claimed + s.unlocked));
      declared = s.finalTotal + ((ceiling - s.finalTotal) * op.declaredBps) / 10_000n;
      break;
    }
    case 'aboveFees':
      declared = n.fees + 1n + (op.bump % OPEN);
      break;
    case 'aboveStake':
      declared = max(s.finalTotal, claimed + s.unlocked + 1n + (op.bump % OPEN));
      break;
  }
  const tree = m.tree(amounts);
  const honest = { tree: m.tree(honestAmounts), declared: honestDeclared };
  const atRisk = declared - claimed;
  const label = `node ${i} posts ${kind} epoch ${epoch}`;
  const call = () =>
    send(c, node, {
      ...distributor(c),
      functionName: 'postEpoch',
      args: [epoch, tree.root, declared, keccak256(stringToHex(`receipts ${i} ${epoch}`)), `cid-${i}-${epoch}`],
    });
  if (!n.eligible) return refuse(label, call, 'NotAttestor', [node.address]);
  if (epoch !== expected) return refuse(label, call, 'EpochOutOfOrder', [node.address, expected, epoch]);
  if (expected > 1n && s.status !== FINAL && s.status !== VOID) {
    return refuse(label, call, 'PreviousEpochNotFinal', [node.address, n.epochCount, s.status, n.latest!.finalAt]);
  }
  if (declared < s.finalTotal) return refuse(label, call, 'TotalDecreased', [s.finalTotal, declared]);
  if (declared > n.fees) return refuse(label, call, 'ExceedsFees', [node.address, declared, n.fees]);
  if (atRisk > s.unlocked) return refuse(label, call, 'StakeTooLowForEpoch', [node.address, atRisk, s.unlocked]);
  const isHonest = tree.root === honest.tree.root && declared === honest.declared;
  return {
    label,
    send: call,
    outcome: {
      ok: (receipt) => {
        const [posted] = distributorEvents(receipt, 'EpochPosted');
        expect(posted?.locked, `${label}: locks all its root could pay out`).toBe(atRisk);
        expect(posted?.finalAt).toBe(v.now + w.terms.window);
        if (n.latest && n.latest.status !== s.status) {
          const name = s.status === FINAL ? 'EpochFinalized' : 'EpochVoided';
          expect(distributorEvents(receipt, name).length, `${label}: settles the previous epoch`).toBe(1);
          bump(w.stats, s.status === FINAL ? 'settle:final' : 'settle:void');
        }
        m.epochs[i]!.set(epoch, { tree, declared, atRisk, honest, isHonest });
        bump(w.stats, `post:${kind}${isHonest || kind === 'keep' ? '' : ':dishonest'}`);
        return undefined;
      },
    },
  };
}

/** Resolves each claim item to the (node, account, amount, proof) it sends. */
function claimArgs(w: World, m: Model, v: View, item: ClaimItem) {
  const n = v.nodes[item.node]!;
  const latestTree = (i: number) => m.epochs[i]!.get(v.nodes[i]!.epochCount)?.tree;
  const finalTree = (i: number) =>
    v.nodes[i]!.claimRoot === zeroHash ? latestTree(i) : m.trees.get(v.nodes[i]!.claimRoot);
  let tree: Tree | undefined;
  switch (item.source) {
    case 'final':
    case 'inflated':
      tree = finalTree(item.node);
      break;
    case 'latest':
      tree = latestTree(item.node);
      break;
    case 'other':
      tree = finalTree((item.node + 1) % NODES);
      break;
  }
  if (!tree) return undefined;
  const amount = tree.amounts[item.payee]! + (item.source === 'inflated' ? 1n : 0n);
  return {
    node: w.nodes[item.node]!.address,
    account: PAYEE[item.payee]!,
    cumulativeAmount: amount,
    proof: tree.proof(item.payee),
    valid: tree.root === n.claimRoot && item.source !== 'inflated',
  };
}

function planClaims(w: World, m: Model, v: View, items: ClaimItem[], batch: boolean): Planned | undefined {
  const { c } = w;
  const resolved = items.map((it) => claimArgs(w, m, v, it));
  if (resolved.some((x) => x === undefined) || resolved.length === 0) return undefined;
  const reqs = resolved as NonNullable<(typeof resolved)[number]>[];
  const label = `${batch ? 'claimMany' : 'claim'} ${items.map((it) => `${it.node}/${it.payee}/${it.source}`).join(' ')}`;
  const call = batch
    ? () =>
        send(c, w.watcher, {
          ...distributor(c),
          functionName: 'claimMany',
          args: [
            reqs.map(({ node, account, cumulativeAmount, proof }) => ({ node, account, cumulativeAmount, proof })),
          ],
        })
    : () =>
        send(c, w.watcher, {
          ...distributor(c),
          functionName: 'claim',
          args: [reqs[0]!.node, reqs[0]!.account, reqs[0]!.cumulativeAmount, reqs[0]!.proof],
        });
  const claimed = v.nodes.map((n) => [...n.claimed]);
  const totals = v.nodes.map((n) => n.claimedTotal);
  const paid: { node: Address; account: Address; epoch: bigint; amount: bigint; cumulative: bigint }[] = [];
  for (const [k, q] of reqs.entries()) {
    const i = items[k]!.node;
    const n = v.nodes[i]!;
    if (!q.valid) return refuse(label, call, 'InvalidProof', [q.account, q.cumulativeAmount]);
    const already = claimed[i]![items[k]!.payee]!;
    if (q.cumulativeAmount <= already) return refuse(label, call, 'NothingToClaim', [q.account, already]);
    const after = totals[i]! + q.cumulativeAmount - already;
    if (after > n.finalTotal) return refuse(label, call, 'ExceedsDeclaredTotal', [q.node, n.finalTotal, after]);
    // Direct: a claim pays up to the account's leaf under the node's final root, never beyond it.
    expect(q.cumulativeAmount).toBe(m.amountsOf(n.claimRoot)[items[k]!.payee]);
    claimed[i]![items[k]!.payee] = q.cumulativeAmount;
    totals[i] = after;
    paid.push({
      node: q.node,
      account: q.account,
      epoch: n.finalizedEpoch,
      amount: q.cumulativeAmount - already,
      cumulative: q.cumulativeAmount,
    });
  }
  return {
    label,
    send: call,
    outcome: {
      ok: (receipt) => {
        const events = distributorEvents(receipt, 'Claimed');
        expect(events).toEqual(paid);
        for (const _ of paid) bump(w.stats, 'claim:paid');
        return (after) => {
          for (let a = 0; a < PAYEES; a++) {
            const got = sum(paid.filter((p) => p.account === PAYEE[a]).map((p) => p.amount));
            expect(after.payeeBalances[a]! - v.payeeBalances[a]!, `payee ${a} received what it claimed`).toBe(got);
          }
        };
      },
    },
  };
}

async function plan(w: World, m: Model, v: View, op: Exclude<Op, { op: 'warp' }>): Promise<Planned | undefined> {
  const { c } = w;
  const d = distributor(c);
  const esc = escrow(c);
  switch (op.op) {
    case 'open': {
      const payer = w.payers[op.payer]!;
      const node = w.nodes[op.node]!;
      return {
        label: `payer ${op.payer} opens a channel to node ${op.node}`,
        send: () =>
          send(c, payer, { ...esc, functionName: 'openChannel', args: [node.address, op.deposit, op.duration] }),
        outcome: {
          ok: () => {
            m.channels.push({
              id: BigInt(m.channels.length + 1),
              payer: op.payer,
              node: op.node,
              deposit: op.deposit,
              redeemed: 0n,
              expiresAt: v.now + op.duration,
              closed: false,
            });
            return undefined;
          },
        },
      };
    }
    case 'redeem': {
      const ch = m.channels[op.ch % m.channels.length]!;
      const left = ch.deposit - ch.redeemed;
      const step = (left * op.bps) / 10_000n;
      const amount = left === 0n ? ch.deposit + 1n : ch.redeemed + (step > 0n ? step : 1n);
      const node = w.nodes[ch.node]!;
      const signature = await w.payers[ch.payer]!.signTypedData({
        domain: {
          name: 'Tributary InferenceEscrow',
          version: '1',
          chainId: c.clients.chain.id,
          verifyingContract: esc.address,
        },
        types: {
          Voucher: [
            { name: 'channelId', type: 'uint256' },
            { name: 'node', type: 'address' },
            { name: 'cumulativeAmount', type: 'uint256' },
          ],
        },
        primaryType: 'Voucher',
        message: { channelId: ch.id, node: node.address, cumulativeAmount: amount },
      });
      const label = `node ${ch.node} redeems channel ${ch.id}`;
      const call = () => send(c, node, { ...esc, functionName: 'redeem', args: [ch.id, amount, signature] });
      if (ch.closed) return refuse(label, call, 'ChannelClosed', [ch.id]);
      if (amount > ch.deposit) return refuse(label, call, 'ExceedsDeposit', [ch.deposit, amount]);
      // Direct: until the user closes the channel, the node's voucher always pays, expired or not.
      return {
        label,
        send: call,
        outcome: {
          ok: () => {
            if (v.now >= ch.expiresAt) bump(w.stats, 'redeem:afterExpiry');
            ch.redeemed = amount;
            return undefined;
          },
        },
      };
    }
    case 'close': {
      const ch = m.channels[op.ch % m.channels.length]!;
      const payer = w.payers[ch.payer]!;
      const graceEnds = ch.expiresAt + w.terms.grace;
      const label = `payer ${ch.payer} closes channel ${ch.id}`;
      const call = () => send(c, payer, { ...esc, functionName: 'close', args: [ch.id] });
      if (ch.closed) return refuse(label, call, 'ChannelClosed', [ch.id]);
      if (v.now < ch.expiresAt) return refuse(label, call, 'ChannelNotExpired', [ch.id, ch.expiresAt]);
      if (v.now < graceEnds) return refuse(label, call, 'InSettlementGrace', [ch.id, graceEnds]);
      return {
        label,
        send: call,
        outcome: {
          ok: (receipt) => {
            expect(v.now >= graceEnds, 'a user never closes before expiry + grace').toBe(true);
            const [closed] = parseEventLogs({
              abi: esc.abi,
              logs: receipt.logs,
              eventName: 'ChannelClosedByUser',
            });
            expect(closed?.args.refund).toBe(ch.deposit - ch.redeemed);
            ch.closed = true;
            bump(w.stats, 'close:ok');
            return undefined;
          },
        },
      };
    }
    case 'post':
      return planPost(w, m, v, op);
    case 'finalize': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!.address;
      const label = `finalize node ${op.node} epoch ${n.epochCount}`;
      const call = () => send(c, w.stranger, { ...d, functionName: 'finalize', args: [node, n.epochCount] });
      const e = n.latest;
      if (!e) return refuse(label, call, 'UnknownEpoch', [node, 0n]);
      if (e.status !== PENDING || v.now < e.finalAt) {
        return refuse(label, call, 'NotFinal', [node, n.epochCount, e.status, e.finalAt]);
      }
      return {
        label,
        send: call,
        outcome: {
          ok: () => {
            bump(w.stats, 'finalize');
            return undefined;
          },
        },
      };
    }
    case 'challenge': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!.address;
      const who = op.byStaker ? w.watcher : w.stranger;
      const epoch = op.older && n.epochCount > 1n ? n.epochCount - 1n : n.epochCount;
      const label = `challenge node ${op.node} epoch ${epoch}`;
      const call = () => send(c, who, { ...d, functionName: 'challenge', args: [node, epoch] });
      if (!op.byStaker) return refuse(label, call, 'NotStaker', [who.address]);
      const e = n.latest;
      if (!e) return refuse(label, call, 'UnknownEpoch', [node, 0n]);
      if (epoch !== n.epochCount || e.status !== PENDING || v.now >= e.finalAt) {
        return refuse(label, call, 'NotChallengeable', [node, epoch]);
      }
      return {
        label,
        send: call,
        outcome: {
          ok: (receipt) => {
            const [ev] = distributorEvents(receipt, 'EpochChallenged');
            expect(ev?.resolveBy).toBe(v.now + w.terms.resolution);
            expect(ev?.bond).toBe(w.terms.bond);
            bump(w.stats, 'challenge');
            return (after) => expect(v.watcherBalance - after.watcherBalance, 'the bond is taken').toBe(w.terms.bond);
          },
        },
      };
    }
    case 'resolve': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!.address;
      const epoch = n.epochCount;
      const rec = m.epochs[op.node]!.get(epoch);
      const upheld = op.verdict === 'correct' ? !(rec?.isHonest ?? true) : op.verdict === 'uphold';
      const fix = rec?.honest ?? { tree: m.tree(ZERO_AMOUNTS()), declared: 0n };
      const correction = {
        payoutRoot: fix.tree.root,
        cumulativeTotal: fix.declared,
        receiptsRoot: keccak256(stringToHex(`corrected receipts ${op.node} ${epoch}`)),
        receiptsCID: `cid-${op.node}-${epoch}-corrected`,
      };
      const label = `governance ${upheld ? 'upholds' : 'rejects'} the challenge of node ${op.node} epoch ${epoch}`;
      const call = () =>
        send(c, w.timelock, {
          ...d,
          functionName: 'resolveChallenge',
          args: [node, epoch, upheld, correction, op.slash],
        });
      const e = n.latest;
      if (!e || !rec) return refuse(label, call, 'UnknownEpoch', [node, 0n]);
      if (e.status !== CHALLENGED) return refuse(label, call, 'NotChallenged', [node, epoch]);
      if (v.now > e.resolveBy) return refuse(label, call, 'ResolutionExpired', [node, epoch, e.resolveBy]);
      if (upheld) {
        if (fix.declared < n.finalTotal) return refuse(label, call, 'TotalDecreased', [n.finalTotal, fix.declared]);
        if (fix.declared > n.fees) return refuse(label, call, 'ExceedsFees', [node, fix.declared, n.fees]);
      }
      return {
        label,
        send: call,
        outcome: {
          ok: (receipt) => {
            if (!upheld) {
              const [ev] = distributorEvents(receipt, 'ChallengeRejected');
              expect(ev?.finalAt, 'a rejection reopens the window').toBe(max(e.finalAt, v.now + w.terms.window));
              bump(w.stats, 'reject');
              return (after) => {
                expect(after.treasuryBalance - v.treasuryBalance, 'a rejected bond goes to the treasury').toBe(e.bond);
                expect(after.watcherBalance).toBe(v.watcherBalance);
              };
            }
            const [ev] = distributorEvents(receipt, 'ChallengeUpheld');
            const slashed = ev!.slashed;
            const slashCheck = checkSlash(w, m, v, op.node, rec, receipt, slashed);
            expect(slashed).toBe(min(max(op.slash, e.locked), n.slashable));
            expect(key(ev!.newRoot)).toBe(fix.tree.root);
            bump(w.stats, rec.isHonest ? 'uphold:honest' : 'uphold');
            return (after) => {
              slashCheck(after);
              expect(after.watcherBalance - v.watcherBalance, 'an upheld bond goes back').toBe(e.bond);
              expect(after.nodes[op.node]!.claimRoot).toBe(fix.tree.root);
            };
          },
        },
      };
    }
    case 'resolveExpired': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!.address;
      const epoch = n.epochCount;
      const label = `resolveExpired node ${op.node} epoch ${epoch}`;
      const call = () => send(c, w.stranger, { ...d, functionName: 'resolveExpired', args: [node, epoch] });
      const e = n.latest;
      if (!e) return refuse(label, call, 'UnknownEpoch', [node, 0n]);
      if (e.status !== CHALLENGED) return refuse(label, call, 'NotChallenged', [node, epoch]);
      if (v.now <= e.resolveBy) return refuse(label, call, 'ResolutionPending', [node, epoch, e.resolveBy]);
      return {
        label,
        send: call,
        outcome: {
          ok: (receipt) => {
            const [ev] = distributorEvents(receipt, 'EpochVoided');
            expect(ev).toMatchObject({ reason: 0, slashed: 0n });
            expect(stakingEvents(receipt, 'Slashed')).toEqual([]);
            bump(w.stats, 'expired');
            return (after) => {
              expect(after.watcherBalance - v.watcherBalance, 'an expired challenge returns the bond').toBe(e.bond);
              expect(after.nodes[op.node]!.claimRoot, 'a void epoch never pays').toBe(n.claimRoot);
            };
          },
        },
      };
    }
    case 'proveLeafAboveTotal':
    case 'proveDecrease': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!.address;
      const epoch = n.epochCount;
      const rec = m.epochs[op.node]!.get(epoch);
      const e = n.latest;
      if (!e || !rec) return undefined;
      const above = op.op === 'proveLeafAboveTotal';
      if (!above && n.claimRoot === zeroHash) return undefined;
      const F = m.amountsOf(n.claimRoot);
      const score = (k: number) => (above ? rec.tree.amounts[k]! : F[k]! - rec.tree.amounts[k]!);
      let j = op.payee;
      if (j < 0) j = [0, 1, 2, 3].reduce((best, k) => (score(k) > score(best) ? k : best), 0);
      const amount = rec.tree.amounts[j]!;
      const label = `${op.op} node ${op.node} epoch ${epoch} payee ${j}`;
      const call = above
        ? () =>
            send(c, w.watcher, {
              ...d,
              functionName: 'proveLeafAboveTotal',
              args: [node, epoch, PAYEE[j]!, amount, rec.tree.proof(j)],
            })
        : () =>
            send(c, w.watcher, {
              ...d,
              functionName: 'proveDecrease',
              args: [node, epoch, PAYEE[j]!, F[j]!, m.trees.get(n.claimRoot)!.proof(j), amount, rec.tree.proof(j)],
            });
      if (e.status !== PENDING && e.status !== CHALLENGED) {
        return refuse(label, call, 'NotDisputable', [node, epoch, e.status]);
      }
      if (above ? amount <= rec.declared : amount >= F[j]!) return refuse(label, call, 'NotFraud', []);
      return {
        label,
        send: call,
        outcome: {
          ok: (receipt) => {
            const [ev] = distributorEvents(receipt, 'EpochVoided');
            expect(ev?.reason).toBe(above ? 2 : 1);
            const slashed = ev!.slashed;
            expect(rec.isHonest, 'only a dishonest epoch can be proven fraudulent').toBe(false);
            const slashCheck = checkSlash(w, m, v, op.node, rec, receipt, slashed);
            expect(slashed).toBe(min(e.locked, n.slashable));
            bump(w.stats, above ? 'fraud:leafAboveTotal' : 'fraud:decrease');
            return (after) => {
              slashCheck(after);
              expect(after.watcherBalance - v.watcherBalance, 'a pending bond goes back').toBe(e.bond);
              expect(after.nodes[op.node]!.claimRoot, 'a void epoch never pays').toBe(n.claimRoot);
            };
          },
        },
      };
    }
    case 'claim':
      return planClaims(w, m, v, [op], false);
    case 'claimMany':
      return planClaims(w, m, v, op.items, true);
    case 'unstake': {
      const n = v.nodes[op.node]!;
      const node = w.nodes[op.node]!;
      const free = n.stake - n.locked;
      const amount = {
        all: n.stake,
        unlocked: free,
        overUnlocked: free + 1n,
        aboveMinimum: n.stake > w.terms.minimum ? n.stake - w.terms.minimum : 0n,
        half: free / 2n,
      }[op.amount];
      const label = `node ${op.node} requests unstaking ${amount} (${op.amount})`;
      const call = () => send(c, node, { ...c.staking, functionName: 'requestUnstake', args: [VALIDATOR, amount] });
      if (amount === 0n) return refuse(label, call, 'ZeroAmount', []);
      if (amount > n.stake) return refuse(label, call, 'InsufficientStake', [amount, n.stake]);
      const remaining = n.stake - amount;
      if (remaining !== 0n && remaining < w.terms.minimum) {
        return refuse(label, call, 'BelowMinimumStake', [VALIDATOR, remaining, w.terms.minimum]);
      }
      if (remaining < n.locked)
        return refuse(label, call, 'StakeLocked', [node.address, VALIDATOR, n.locked, remaining]);
      return {
        label,
        send: call,
        outcome: {
          ok: () => {
            // Direct: the stake behind a pending epoch never starts unbonding.
            expect(remaining >= n.locked, 'an unstake never touches locked stake').toBe(true);
            if (n.locked > 0n) m.raced[op.node] = true;
            bump(w.stats, n.locked > 0n ? 'unstake:whileLocked' : 'unstake');
            return undefined;
          },
        },
      };
    }
    case 'withdraw': {
      const node = w.nodes[op.node]!;
      const queue = await w.r.readContract({
        ...c.staking,
        functionName: 'unbondingRequests',
        args: [node.address, VALIDATOR],
      });
      const matured = sum(queue.filter((u) => u.releaseAt <= v.now).map((u) => u.amount));
      const later = queue.filter((u) => u.releaseAt > v.now).map((u) => u.releaseAt);
      const next = later.length === 0 ? 0n : later.reduce(min);
      const label = `node ${op.node} withdraws`;
      const call = () => send(c, node, { ...c.staking, functionName: 'withdraw', args: [VALIDATOR] });
      if (matured === 0n) return refuse(label, call, 'NothingToWithdraw', [node.address, VALIDATOR, next]);
      return {
        label,
        send: call,
        outcome: {
          ok: () => {
            if (v.nodes[op.node]!.locked > 0n) m.raced[op.node] = true;
            bump(w.stats, 'withdraw');
            return (after) => {
              const [b, a] = [v.nodes[op.node]!, after.nodes[op.node]!];
              expect(a.stake, 'a withdrawal never touches active stake').toBe(b.stake);
              expect(a.locked).toBe(b.locked);
              expect(b.slashable - a.slashable).toBe(matured);
            };
          },
        },
      };
    }
  }
}

/** Node −1 in a command names the first node where the command can bite (else node 0). */
function retarget(m: Model, v: View, op: Op): Op {
  if (!('node' in op) || op.node !== -1) return op;
  const open = (i: number) => {
    const e = v.nodes[i]!.latest;
    return e !== undefined && (e.status === PENDING || e.status === CHALLENGED);
  };
  const pred: Record<string, (i: number) => boolean> = {
    challenge: (i) => open(i) && v.nodes[i]!.latest!.status === PENDING && v.now < v.nodes[i]!.latest!.finalAt,
    resolve: (i) => v.nodes[i]!.latest?.status === CHALLENGED,
    resolveExpired: (i) => v.nodes[i]!.latest?.status === CHALLENGED,
    warp: (i) => v.nodes[i]!.latest?.status === CHALLENGED,
    proveLeafAboveTotal: (i) => open(i) && !m.epochs[i]!.get(v.nodes[i]!.epochCount)!.isHonest,
    proveDecrease: (i) => open(i) && !m.epochs[i]!.get(v.nodes[i]!.epochCount)!.isHonest,
  };
  const found = [0, 1, 2].find((i) => pred[op.op]?.(i) ?? false);
  return { ...op, node: found ?? 0 };
}

/** Runs one command; returns the checks that need the state after it. */
async function step(w: World, m: Model, v: View, original: Op): Promise<After | undefined> {
  const { c, terms } = w;
  const op = retarget(m, v, original);
  if (op.op === 'warp') {
    const e = v.nodes[op.node]!.latest;
    const target = {
      window: e?.finalAt,
      windowEdge: e && e.finalAt - 1n,
      resolution: e && e.status === CHALLENGED ? e.resolveBy : undefined,
      pastResolution: e && e.status === CHALLENGED ? e.resolveBy + 1n : undefined,
      unbonding: v.now + terms.unbonding + 1n,
      small: v.now + op.seconds,
    }[op.to];
    await warpTo(c, target !== undefined && target > v.now ? target : v.now + op.seconds);
    return undefined;
  }
  let view = v;
  if (op.op === 'close' && op.timing !== 'now') {
    const ch = m.channels[op.ch % m.channels.length]!;
    const target = {
      expiry: ch.expiresAt,
      inGrace: ch.expiresAt + terms.grace - 1n,
      afterGrace: ch.expiresAt + terms.grace,
    }[op.timing];
    if (target > v.now) {
      await warpTo(c, target);
      view = { ...v, now: target };
    }
  }
  const planned = await plan(w, m, view, op);
  return planned && execute(w, planned);
}

/** Runs `ops` from the current chain state, checking invariants after each, then the liveness epilogue. */
async function runSequence(w: World, m: Model, ops: Op[]): Promise<void> {
  let v = await readView(w, m);
  checkInvariants(m, v, v);
  for (const op of ops) {
    const after = await step(w, m, v, op);
    const next = await readView(w, m);
    checkInvariants(m, v, next);
    after?.(next);
    v = next;
  }
  await liveness(w, m, v);
}

const POST_DEFAULTS = { weights: [1, 1, 1, 1], pick: 0, bump: 0n, leaves: [0n, 0n, 0n, 0n], declaredBps: 10_000n };

/**
 * Time passes; every node (restaking if it left, or if what its final root could still pay out outgrew its unlocked
 * stake after unstakes and slashes) must be able to post its next epoch — its previous one ends final or void — and
 * then every payee of the honest node claims its whole final leaf.
 */
async function liveness(w: World, m: Model, v0: View): Promise<void> {
  const { c } = w;
  let target = v0.now + 1n;
  for (const n of v0.nodes) if (n.latest) target = max(target, max(n.latest.finalAt, n.latest.resolveBy + 1n));
  await warpTo(c, target);
  let v = await readView(w, m);
  for (const [i, n] of v.nodes.entries()) {
    // What the next root could pay out at least: the final total kept, or (honest node) its final leaves.
    const s = settled(v, i);
    const next = i === HONEST ? max(sum(m.amountsOf(s.finalRoot)), s.finalTotal) : s.finalTotal;
    const atRisk = next - n.claimedTotal;
    let amount = atRisk > s.unlocked ? atRisk - s.unlocked : 0n;
    if (!n.eligible) amount = max(amount, n.stake < w.terms.minimum ? w.terms.minimum - n.stake : 1n);
    if (amount === 0n) continue;
    await send(c, w.nodes[i]!, { ...c.staking, functionName: 'stake', args: [VALIDATOR, amount] });
  }
  v = await readView(w, m);
  for (let i = 0; i < NODES; i++) {
    const previous = v.nodes[i]!.epochCount;
    const op: PostOp = {
      op: 'post',
      node: i,
      kind: i === HONEST ? 'honest' : 'keep',
      share: 10_000n,
      ...POST_DEFAULTS,
    };
    const planned = planPost(w, m, v, op);
    expect(planned.outcome.error, `node ${i} is wedged`).toBeUndefined();
    await execute(w, planned);
    const next = await readView(w, m);
    checkInvariants(m, v, next);
    v = next;
    if (previous > 0n) {
      const e = await w.r.readContract({
        ...distributor(c),
        functionName: 'getEpoch',
        args: [w.nodes[i]!.address, previous],
      });
      expect([FINAL, VOID], `node ${i}: its previous epoch ended final or void`).toContain(e.status);
    }
  }
  // Drain: everything every final root owes, claimed in batches (one refusal per node is sent on its own).
  for (let i = 0; i < NODES; i++) {
    const n = v.nodes[i]!;
    if (n.claimRoot === zeroHash) continue;
    const leaves = m.amountsOf(n.claimRoot);
    const items: ClaimItem[] = [];
    let refused: ClaimItem | undefined;
    let total = n.claimedTotal;
    for (let a = 0; a < PAYEES; a++) {
      const owed = leaves[a]! - n.claimed[a]!;
      if (leaves[a]! <= n.claimed[a]!) continue;
      if (total + owed > n.finalTotal) refused ??= { node: i, payee: a, source: 'final' };
      else {
        items.push({ node: i, payee: a, source: 'final' });
        total += owed;
      }
    }
    for (const batch of [items, ...(refused ? [[refused]] : [])]) {
      if (batch.length === 0) continue;
      const planned = planClaims(w, m, v, batch, batch.length > 1)!;
      const after = await execute(w, planned);
      const next = await readView(w, m);
      checkInvariants(m, v, next);
      after?.(next);
      v = next;
    }
    if (i === HONEST) {
      // Nobody else's fraud took the honest node's fees: each of its payees got its whole final leaf.
      expect(v.nodes[i]!.claimed, 'the honest node pays out in full').toEqual(leaves);
    }
  }
}

// ----------------------------------------------------------------------------------------------- arbitraries

const node = fc.nat({ max: NODES - 1 });
const payee = fc.nat({ max: PAYEES - 1 });
/** A node, or −1: the first node where the command can bite (see retarget). */
const targeted = fc.oneof({ arbitrary: fc.constant(-1), weight: 2 }, { arbitrary: node, weight: 1 });
const weight = (arbitrary: fc.Arbitrary<Op>, w: number) => ({ arbitrary, weight: w });
const sourceArb = fc.oneof(
  { arbitrary: fc.constant<Source>('final'), weight: 6 },
  { arbitrary: fc.constantFrom<Source>('latest', 'other', 'inflated'), weight: 2 },
);
const claimItem = fc.record({ node, payee, source: sourceArb });
const postArb = (kinds: fc.Arbitrary<PostKind>, nodes: fc.Arbitrary<number> = node): fc.Arbitrary<Op> =>
  fc.record({
    op: fc.constant('post' as const),
    node: nodes,
    kind: kinds,
    share: fc.oneof(fc.bigInt(0n, 10_000n), fc.constant(10_000n)),
    weights: fc.array(fc.nat({ max: 5 }), { minLength: PAYEES, maxLength: PAYEES }),
    pick: fc.nat({ max: 7 }),
    bump: fc.bigInt(0n, 100n * OPEN),
    leaves: fc.array(fc.bigInt(0n, 30_000n), { minLength: PAYEES, maxLength: PAYEES }),
    declaredBps: fc.bigInt(0n, 10_000n),
  });
const anyKind = fc.oneof(
  { arbitrary: fc.constant<PostKind>('honest'), weight: 4 },
  { arbitrary: fc.constantFrom<PostKind>('leafAboveTotal', 'decrease', 'inflated', 'forged'), weight: 4 },
  { arbitrary: fc.constantFrom<PostKind>('aboveFees', 'aboveStake', 'outOfOrder'), weight: 1 },
);
const fraudKind = fc.oneof(
  { arbitrary: fc.constantFrom<PostKind>('leafAboveTotal', 'decrease', 'forged'), weight: 3 },
  { arbitrary: fc.constant<PostKind>('inflated'), weight: 1 },
);
const warpArb = (to: fc.Arbitrary<WarpKind>, nodes: fc.Arbitrary<number> = node): fc.Arbitrary<Op> =>
  fc.record({ op: fc.constant('warp' as const), node: nodes, to, seconds: fc.bigInt(1n, 12n * 3_600n) });
const unstakeArb = (nodes: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.record({
    op: fc.constant('unstake' as const),
    node: nodes,
    amount: fc.constantFrom<UnstakeKind>('all', 'unlocked', 'overUnlocked', 'aboveMinimum', 'half'),
  });
const challengeArb = (nodes: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.record({
    op: fc.constant('challenge' as const),
    node: nodes,
    byStaker: fc.oneof({ arbitrary: fc.constant(true), weight: 8 }, { arbitrary: fc.constant(false), weight: 1 }),
    older: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
const resolveArb = (nodes: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.record({
    op: fc.constant('resolve' as const),
    node: nodes,
    verdict: fc.oneof(
      { arbitrary: fc.constant('correct' as const), weight: 5 },
      { arbitrary: fc.constantFrom('uphold' as const, 'reject' as const), weight: 2 },
    ),
    slash: fc.oneof(fc.constant(0n), fc.bigInt(1n, 20_000n * OPEN)),
  });
const proofArb = (nodes: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.record({
    op: fc.constantFrom('proveLeafAboveTotal' as const, 'proveDecrease' as const),
    node: nodes,
    payee: fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, { arbitrary: payee, weight: 1 }),
  });

const mixedOp: fc.Arbitrary<Op> = fc.oneof(
  weight(postArb(anyKind), 6),
  weight(fc.record({ op: fc.constant('finalize' as const), node }), 2),
  weight(challengeArb(targeted), 5),
  weight(resolveArb(targeted), 4),
  weight(fc.record({ op: fc.constant('resolveExpired' as const), node: targeted }), 2),
  weight(proofArb(targeted), 4),
  weight(fc.record({ op: fc.constant('claim' as const), node, payee, source: sourceArb }), 4),
  weight(
    fc.record({ op: fc.constant('claimMany' as const), items: fc.array(claimItem, { minLength: 1, maxLength: 5 }) }),
    2,
  ),
  weight(unstakeArb(node), 2),
  weight(fc.record({ op: fc.constant('withdraw' as const), node }), 1),
  weight(
    warpArb(
      fc.oneof(
        { arbitrary: fc.constantFrom<WarpKind>('window', 'windowEdge', 'small'), weight: 3 },
        { arbitrary: fc.constantFrom<WarpKind>('resolution', 'pastResolution', 'unbonding'), weight: 2 },
      ),
      targeted,
    ),
    4,
  ),
  weight(fc.record({ op: fc.constant('redeem' as const), ch: fc.nat({ max: 20 }), bps: fc.bigInt(1n, 10_000n) }), 3),
  weight(
    fc.record({
      op: fc.constant('open' as const),
      payer: fc.nat({ max: 1 }),
      node,
      deposit: fc.bigInt(100n * OPEN, 15_000n * OPEN),
      duration: fc.bigInt(3_600n, 2n * 86_400n),
    }),
    1,
  ),
  weight(
    fc.record({
      op: fc.constant('close' as const),
      ch: fc.nat({ max: 20 }),
      timing: fc.constantFrom('now' as const, 'expiry' as const, 'inGrace' as const, 'afterGrace' as const),
    }),
    2,
  ),
);

// ---------------------------------------------------------------------------------------------------- setup

/**
 * Runs and a time limit: each run is a few dozen transactions on anvil. The limit (checked between runs, shrinking
 * included) keeps a failing property's shrinking inside the test timeout, so that its runs end before the next
 * test's snapshot; a failure found before the limit is still reported, with the smallest counterexample so far.
 */
// A fixed seed: the same dishonest sequences every run, so the checks below that each property reached its
// interesting paths (slashes, voids, refusals) cannot fail by chance. Change the seed to explore others.
const budget = (numRuns: number) => ({ numRuns, interruptAfterTimeLimit: 30_000, seed: 20_261_207 });

async function withSnapshot(c: TestChain, body: () => Promise<void>): Promise<void> {
  const test = c.clients.test();
  const snapshot = await test.snapshot();
  try {
    await body();
  } finally {
    await test.revert({ id: snapshot });
  }
}

/** Three staked nodes with fees from one long channel each, two payers, a staked watcher with bonds. */
async function setUp(c: TestChain): Promise<{ w: World; channels: ChannelRec[] }> {
  const [n0, n1, n2, p0, p1, watcher] = c.users as [HDAccount, HDAccount, HDAccount, HDAccount, HDAccount, HDAccount];
  const nodes = [n0, n1, n2];
  const payers = [p0, p1];
  const d = distributor(c);
  const r = createPublicClient({
    chain: c.clients.chain,
    transport: http(c.clients.rpcUrl, { batch: true }),
  }) as PublicClient;
  const cfg = config(c);
  const [window, bond, resolution, treasury, unbonding, minimum, grace] = await Promise.all([
    r.readContract({ ...cfg, functionName: 'challengeWindow' }),
    r.readContract({ ...cfg, functionName: 'challengeBond' }),
    r.readContract({ ...cfg, functionName: 'resolutionPeriod' }),
    r.readContract({ ...cfg, functionName: 'platformTreasury' }),
    r.readContract({ ...c.staking, functionName: 'unbondingPeriod' }),
    r.readContract({ ...c.staking, functionName: 'minimumStake', args: [VALIDATOR] }),
    r.readContract({ ...escrow(c), functionName: 'settlementGrace' }),
  ]);
  expect(await r.readContract({ ...c.staking, functionName: 'treasury' })).toBe(treasury);
  const timelock = await c.impersonate(c.timelock.address);
  expect(await r.readContract({ ...d, functionName: 'hasRole', args: [roleIds.RESOLVER, timelock] })).toBe(true);
  const fund = (to: Address, amount: bigint) =>
    send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [to, amount] });
  for (const [i, n] of nodes.entries()) await stake(c, n, VALIDATOR, NODE_STAKE[i]!, NODE_STAKE[i]! + 50_000n * OPEN);
  for (const p of payers) {
    await fund(p.address, 2_000_000n * OPEN);
    await send(c, p, { ...c.token, functionName: 'approve', args: [escrow(c).address, maxUint256] });
  }
  await stake(c, watcher, stakingRoles.agent, 100n * OPEN, 200n * bond + 100n * OPEN);
  await send(c, watcher, { ...c.token, functionName: 'approve', args: [d.address, maxUint256] });
  const stranger = c.team;
  expect(await r.readContract({ ...d, functionName: 'totalFeesReceived' })).toBe(0n);
  expect(await r.readContract({ ...c.token, functionName: 'balanceOf', args: [d.address] })).toBe(0n);
  for (const a of PAYEE) expect(await r.readContract({ ...c.token, functionName: 'balanceOf', args: [a] })).toBe(0n);
  const w: World = {
    c,
    r,
    nodes,
    payers,
    watcher,
    stranger,
    timelock,
    treasury,
    terms: { window, bond, resolution, unbonding, grace, minimum: minimum },
    stats: new Map(),
  };
  // One long channel per node, with some fees already redeemed.
  const m = new Model([]);
  let v = await readView(w, m);
  for (let i = 0; i < NODES; i++) {
    await execute(
      w,
      (await plan(w, m, v, { op: 'open', payer: i % 2, node: i, deposit: BASE_DEPOSIT, duration: 365n * 86_400n }))!,
    );
    v = await readView(w, m);
    const bps = (INITIAL_FEES[i]! * 10_000n) / BASE_DEPOSIT;
    await execute(w, (await plan(w, m, v, { op: 'redeem', ch: i, bps }))!);
    v = await readView(w, m);
  }
  checkInvariants(m, v, v);
  return { w, channels: m.channels };
}

const freshModel = (channels: ChannelRec[]) => new Model(channels.map((ch) => ({ ...ch })));

// ----------------------------------------------------------------------------------------------------- tests

describe('Settlement under dishonest nodes (property-based, real contracts)', () => {
  // After the chain fixture's beforeAll, before its per-test snapshot: every test starts from this setup.
  let setup: { w: World; channels: ChannelRec[] } | undefined;
  beforeAll(async () => {
    setup = await setUp(chain());
  });
  const world = () => {
    if (!setup) throw new Error('not set up');
    setup.w.stats = new Map();
    return setup;
  };

  it('mixed honest and dishonest nodes, challenges, proofs, unstakes, claims: safety after every command and no node wedged', async () => {
    const c = chain();
    const { w, channels } = world();
    const seed = (i: number): Op => ({ op: 'post', node: i, kind: 'honest', share: 6_000n, ...POST_DEFAULTS });
    const ops = fc
      .tuple(
        postArb(anyKind, fc.constant(1)),
        postArb(anyKind, fc.constant(2)),
        fc.array(mixedOp, { minLength: 12, maxLength: 24 }),
      )
      .map(([first, second, rest]): Op[] => [
        // Every run starts with a final honest epoch per node, then the next epochs of the nodes in their window.
        seed(0),
        seed(1),
        seed(2),
        { op: 'warp', node: 0, to: 'window', seconds: 1n },
        { op: 'redeem', ch: 0, bps: 100n },
        { op: 'redeem', ch: 1, bps: 100n },
        seed(0),
        first,
        second,
        ...rest,
      ]);
    await fc.assert(
      fc.asyncProperty(ops, (seq) => withSnapshot(c, () => runSequence(w, freshModel(channels), seq))),
      budget(10),
    );
    const s = w.stats;
    expect(count(s, 'claim:paid')).toBeGreaterThan(10);
    expect(count(s, 'challenge')).toBeGreaterThan(0);
    expect(count(s, 'fraud:leafAboveTotal') + count(s, 'fraud:decrease') + count(s, 'uphold')).toBeGreaterThan(0);
    // Unresolved challenges reached their deadline (voided by resolveExpired or by the node's next post).
    expect(count(s, 'expired') + count(s, 'settle:void')).toBeGreaterThan(0);
  });

  it('claims beyond the declared total: an unchallenged forged root never pays more than it declared, nor out of another node', async () => {
    const c = chain();
    const { w, channels } = world();
    const liar = fc.constantFrom(1, 2);
    const ops = fc
      .tuple(
        postArb(fc.constantFrom<PostKind>('forged', 'inflated'), liar),
        postArb(fc.constant<PostKind>('honest'), fc.constant(HONEST)),
        fc.array(
          fc.oneof(
            weight(fc.record({ op: fc.constant('claim' as const), node, payee, source: sourceArb }), 3),
            weight(
              fc.record({
                op: fc.constant('claimMany' as const),
                items: fc.array(claimItem, { minLength: 1, maxLength: 6 }),
              }),
              2,
            ),
            weight(
              fc.record({ op: fc.constant('redeem' as const), ch: fc.nat({ max: 2 }), bps: fc.bigInt(1n, 500n) }),
              1,
            ),
          ),
          { minLength: 4, maxLength: 10 },
        ),
      )
      .map(([forged, honest, claims]): Op[] => [
        forged,
        honest,
        { op: 'warp', node: 0, to: 'window', seconds: 1n },
        { op: 'finalize', node: 0 },
        { op: 'finalize', node: 1 },
        { op: 'finalize', node: 2 },
        ...claims,
      ]);
    await fc.assert(
      fc.asyncProperty(ops, (seq) => withSnapshot(c, () => runSequence(w, freshModel(channels), seq))),
      budget(10),
    );
    expect(count(w.stats, 'refused:ExceedsDeclaredTotal')).toBeGreaterThan(0);
    expect(count(w.stats, 'claim:paid')).toBeGreaterThan(10);
  });

  it('unbond escape: a lying node racing requestUnstake / withdraw against its pending epoch still loses the locked stake', async () => {
    const c = chain();
    const { w, channels } = world();
    // Node 1: 16,000 OPEN staked, about 15,000 OPEN of fees — a lie can lock more than the minimum stake.
    const liar = fc.constant(1);
    const race = fc.oneof(
      weight(unstakeArb(liar), 4),
      weight(fc.record({ op: fc.constant('withdraw' as const), node: liar }), 3),
      weight(warpArb(fc.constantFrom<WarpKind>('small', 'unbonding', 'windowEdge', 'resolution'), liar), 3),
      weight(challengeArb(liar), 2),
      weight(fc.record({ op: fc.constant('resolveExpired' as const), node: liar }), 1),
    );
    const ops = fc
      .tuple(
        fc.bigInt(2_000n, 10_000n),
        postArb(fraudKind, liar),
        fc.constantFrom<UnstakeKind>('unlocked', 'aboveMinimum', 'half'),
        fc.array(race, { minLength: 3, maxLength: 8 }),
        fc.shuffledSubarray(
          [
            { op: 'proveLeafAboveTotal', node: 1, payee: -1 } as Op,
            { op: 'proveDecrease', node: 1, payee: -1 } as Op,
            { op: 'resolve', node: 1, verdict: 'uphold', slash: 0n } as Op,
          ],
          { minLength: 3 },
        ),
      )
      .map(([share, lie, amount, racing, detect]): Op[] => [
        // A final honest root first, so that a later root can lower an account below it.
        { op: 'post', node: 1, kind: 'honest', share, ...POST_DEFAULTS },
        { op: 'warp', node: 1, to: 'window', seconds: 1n },
        // New fees, so that the lie's root could pay out (and so locks) a lot of stake.
        { op: 'redeem', ch: 1, bps: 500n },
        { ...(lie as PostOp), share: 10_000n },
        // The node at once unstakes what it can; the race then tries for more.
        { op: 'unstake', node: 1, amount },
        ...racing,
        ...detect,
      ]);
    await fc.assert(
      fc.asyncProperty(ops, (seq) => withSnapshot(c, () => runSequence(w, freshModel(channels), seq))),
      budget(12),
    );
    expect(count(w.stats, 'slash:afterRace')).toBeGreaterThan(0);
    expect(count(w.stats, 'refused:StakeLocked')).toBeGreaterThan(0);
  });
});
