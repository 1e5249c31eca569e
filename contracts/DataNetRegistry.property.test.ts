/**
 * Model-based property test of DataNetRegistry bonds: random sequences of deposit / requestBondWithdrawal /
 * withdrawBond / forfeitBond / time travel by three contributors over two DataNets with different bond settings,
 * run against a real anvil and mirrored in a TypeScript model. After every step the chain must agree with the
 * model (bonds, unlock times, wallets, treasuries, the registry's OPEN balance, total supply), and every call the
 * model says must revert reverts with the predicted custom error (and every other call succeeds).
 *
 * Owners and curators are dishonest here (issue 10, attack 6): they replay forfeits of contributions already
 * forfeited, and forfeit invented contributions (signed by themselves, by nobody, for other content or for the
 * other DataNet). Safety, checked on chain after every step: no contribution forfeits without its contributor's
 * signature, and no contributor loses more than forfeitBps × bondAmount per distinct signed contribution forfeited.
 */
import fc from 'fast-check';
import {
  type Address,
  createPublicClient,
  getAddress,
  type HDAccount,
  type Hex,
  http,
  keccak256,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
} from 'viem';
import { describe, expect, it } from 'vitest';
import { DataNetRegistryArtifact, OPEN, TOTAL_SUPPLY } from '../src/chain/index.js';
import { BaseError } from '../src/core/index.js';
import { signDataNetMessage } from '../src/datanets/index.js';
import { send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const abi = DataNetRegistryArtifact.abi;
const DAY = 86_400n;
const DELAY = 3n * DAY;
const FUNDING = 500n * OPEN;
const hash = (text: string): Hex => keccak256(stringToHex(text));

/** Two DataNets with different bond settings: a partial forfeit (25% of 100 OPEN), and a whole one (10 OPEN). */
const SETTINGS = [
  { bondAmount: 100n * OPEN, forfeitBps: 2_500, treasury: getAddress(`0x${'a0'.repeat(20)}`) },
  { bondAmount: 10n * OPEN, forfeitBps: 10_000, treasury: getAddress(`0x${'b1'.repeat(20)}`) },
] as const;
type Dn = 0 | 1;
const DNS: readonly Dn[] = [0, 1];
const dueOf = (dn: Dn) => (SETTINGS[dn].bondAmount * BigInt(SETTINGS[dn].forfeitBps)) / 10_000n;
const LICENSE = hash('CC-BY-4.0');
/** Each contributor signed this many contributions to each DataNet; forfeits pick among them (so they repeat). */
const CONTENTS = 3;
const contentOf = (who: number, k: number): Hex => hash(`content ${who} #${k}`);
/** Content nobody contributed: what a dishonest curator invents. */
const inventedOf = (who: number, k: number): Hex => hash(`invented ${who} #${k}`);
/**
 * What a forfeit hands in: the contributor's own signature of the contribution (`honest`), or a forgery — the
 * forfeiting account's own signature, none at all, the contributor's signature of a real contribution pointed at
 * invented content, or its signature of the same content in the other DataNet.
 */
type Forge = 'honest' | 'selfSigned' | 'noSignature' | 'otherContent' | 'otherDataNet';

// ------------------------------------------------------------------------------------------------- operations

/** How an amount is chosen, resolved against the model when the step runs. */
type AmountSpec =
  | { kind: 'abs'; value: bigint }
  /** `bps`/10,000 of the base (wallet for deposit, bond for withdraw). */
  | { kind: 'frac'; bps: bigint }
  /** The whole base, plus `delta` wei. */
  | { kind: 'all'; delta: bigint };

/**
 * `who`/`dn` name a position; with `focus` they instead pick (by index) among the positions where the op can do
 * something (a bond, a pending request), so that random sequences reach deep states and not only reverts.
 */
interface Target {
  who: number;
  dn: Dn;
  focus: boolean;
}
type Op =
  | ({ op: 'deposit'; amount: AmountSpec } & Target)
  | ({ op: 'request' } & Target)
  | ({ op: 'withdraw'; amount: AmountSpec } & Target)
  /** `replay`: aim at a contribution that already forfeited (when there is one), as a dishonest owner would. */
  | ({ op: 'forfeit'; by: 'owner' | 'curator' | 'stranger'; content: number; forge: Forge; replay: boolean } & Target)
  | { op: 'advance'; seconds: bigint }
  /** Moves the clock to the position's unlock time plus `delta` seconds (if in the future). */
  | ({ op: 'toUnlock'; delta: bigint } & Target);

const whoArb = fc.integer({ min: 0, max: 2 });
const dnArb = fc.constantFrom<Dn>(0, 1);
const deltaArb = fc.constantFrom(-1n, 0n, 1n);
const focusArb = fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 });
const amount = {
  zero: fc.constant<AmountSpec>({ kind: 'abs', value: 0n }),
  dust: fc.bigInt(1n, 1_000n).map((value): AmountSpec => ({ kind: 'abs', value })),
  large: fc.bigInt(1n, 600n).map((v): AmountSpec => ({ kind: 'abs', value: v * OPEN })),
  frac: fc.bigInt(1n, 10_000n).map((bps): AmountSpec => ({ kind: 'frac', bps })),
  all: deltaArb.map((delta): AmountSpec => ({ kind: 'all', delta })),
};
/** Amounts weighted per operation: mostly ones that can succeed, always some that must revert. */
const amountArb = (weights: Record<keyof typeof amount, number>): fc.Arbitrary<AmountSpec> =>
  fc.oneof(...Object.entries(weights).map(([k, weight]) => ({ arbitrary: amount[k as keyof typeof amount], weight })));
const target = { who: whoArb, dn: dnArb, focus: focusArb };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('deposit' as const),
      ...target,
      amount: amountArb({ zero: 1, dust: 1, large: 2, frac: 4, all: 1 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ op: fc.constant('request' as const), ...target }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constant('withdraw' as const),
      ...target,
      amount: amountArb({ zero: 1, dust: 1, large: 1, frac: 4, all: 3 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('forfeit' as const),
      ...target,
      by: fc.oneof(
        { arbitrary: fc.constant('owner' as const), weight: 3 },
        { arbitrary: fc.constant('curator' as const), weight: 2 },
        { arbitrary: fc.constant('stranger' as const), weight: 1 },
      ),
      content: fc.integer({ min: 0, max: CONTENTS - 1 }),
      forge: fc.oneof(
        { arbitrary: fc.constant<Forge>('honest'), weight: 6 },
        { arbitrary: fc.constantFrom<Forge>('selfSigned', 'noSignature', 'otherContent', 'otherDataNet'), weight: 3 },
      ),
      replay: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      seconds: fc.oneof(fc.constantFrom(1n, 3_600n, DAY, DELAY - 1n, DELAY), fc.bigInt(1n, 5n * DAY)),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('toUnlock' as const), ...target, delta: deltaArb }), weight: 3 },
);

// ------------------------------------------------------------------------------------------------------ model

interface Position {
  bond: bigint;
  /** bondWithdrawableAt: 0 = no withdrawal requested. */
  unlockAt: bigint;
  deposited: bigint;
  withdrawn: bigint;
  /** Indexes (see contentOf) of this contributor's contributions to this DataNet that forfeited. */
  forfeitedContents: number[];
}
const emptyPosition = (): Position => ({ bond: 0n, unlockAt: 0n, deposited: 0n, withdrawn: 0n, forfeitedContents: [] });

class Model {
  /** positions[dn][who] */
  readonly positions: Position[][] = DNS.map(() => [0, 1, 2].map(emptyPosition));
  readonly wallet: bigint[] = [FUNDING, FUNDING, FUNDING];
  readonly forfeited: bigint[] = DNS.map(() => 0n);

  clone(): Model {
    const m = new Model();
    for (const dn of DNS)
      for (const [who, p] of (this.positions[dn] ?? []).entries())
        Object.assign(m.pos(dn, who), p, { forfeitedContents: [...p.forfeitedContents] });
    m.wallet.splice(0, m.wallet.length, ...this.wallet);
    m.forfeited.splice(0, m.forfeited.length, ...this.forfeited);
    return m;
  }
  pos(dn: Dn, who: number): Position {
    const p = this.positions[dn]?.[who];
    if (!p) throw new Error(`no position ${dn}/${who}`);
    return p;
  }
  totalBonds(): bigint {
    return this.positions.flat().reduce((s, p) => s + p.bond, 0n);
  }
}

const nonNegative = (x: bigint, what: string): bigint => {
  if (x < 0n) throw new Error(`model went negative: ${what} = ${x}`);
  return x;
};

function resolve(spec: AmountSpec, base: bigint): bigint {
  switch (spec.kind) {
    case 'abs':
      return spec.value;
    case 'frac':
      return (base * spec.bps) / 10_000n;
    case 'all':
      return base + spec.delta < 0n ? 0n : base + spec.delta;
  }
}

/** What the model expects a transaction to do: revert with `error(args)`, or succeed and `apply` at time `t`. */
type Expectation =
  | { error: string; args: unknown[] }
  | { error?: undefined; apply: (t: bigint, receipt: TransactionReceipt) => void };

// ----------------------------------------------------------------------------------------------------- driver

interface World {
  c: TestChain;
  /** A client that batches concurrent reads into one JSON-RPC request. */
  reader: PublicClient;
  registry: { address: Address; abi: typeof abi; contract: 'DataNetRegistry' };
  contributors: HDAccount[];
  owner: HDAccount;
  /** A curator of DataNet 1 only (a stranger to DataNet 0). */
  curator: HDAccount;
  ids: readonly [bigint, bigint];
  treasuryBefore: bigint[];
}

function contributor(w: World, who: number): HDAccount {
  const s = w.contributors[who];
  if (!s) throw new Error(`no contributor ${who}`);
  return s;
}

/** Predicts `op` at the current time `now` and builds the transaction that performs it. */
function plan(
  w: World,
  m: Model,
  op: Exclude<Op, { op: 'advance' } | { op: 'toUnlock' }>,
  now: bigint,
): { send: () => Promise<TransactionReceipt>; expect: Expectation } {
  const { c, registry } = w;
  const s = contributor(w, op.who);
  const id = w.ids[op.dn];
  const p = m.pos(op.dn, op.who);
  switch (op.op) {
    case 'deposit': {
      const wallet = m.wallet[op.who] ?? 0n;
      const amount = resolve(op.amount, wallet);
      const call = () => send(c, s, { ...registry, functionName: 'depositBond', args: [id, amount] });
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      if (amount > wallet)
        return { send: call, expect: { error: 'ERC20InsufficientBalance', args: [s.address, wallet, amount] } };
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const pending = p.unlockAt;
            p.bond += amount;
            p.deposited += amount;
            p.unlockAt = 0n;
            m.wallet[op.who] = nonNegative(wallet - amount, 'wallet');
            const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondDeposited' });
            expect(event?.args).toEqual({ dataNetId: id, contributor: s.address, amount, bondAfter: p.bond });
            expectCancelled(receipt, id, s.address, pending);
          },
        },
      };
    }
    case 'request': {
      const call = () => send(c, s, { ...registry, functionName: 'requestBondWithdrawal', args: [id] });
      if (p.bond === 0n) return { send: call, expect: { error: 'NoBond', args: [id, s.address] } };
      return {
        send: call,
        expect: {
          apply: (t, receipt) => {
            p.unlockAt = t + DELAY;
            const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondWithdrawalRequested' });
            expect(event?.args).toEqual({ dataNetId: id, contributor: s.address, withdrawableAt: t + DELAY });
          },
        },
      };
    }
    case 'withdraw': {
      const amount = resolve(op.amount, p.bond);
      const call = () => send(c, s, { ...registry, functionName: 'withdrawBond', args: [id, amount] });
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      if (p.unlockAt === 0n || now < p.unlockAt)
        return { send: call, expect: { error: 'BondLocked', args: [id, s.address, p.unlockAt] } };
      if (amount > p.bond) return { send: call, expect: { error: 'InsufficientBond', args: [amount, p.bond] } };
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            p.bond = nonNegative(p.bond - amount, 'bond');
            p.withdrawn += amount;
            // A withdrawal consumes the request: the next one waits the full delay again.
            p.unlockAt = 0n;
            m.wallet[op.who] = (m.wallet[op.who] ?? 0n) + amount;
            const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondWithdrawn' });
            expect(event?.args).toEqual({ dataNetId: id, contributor: s.address, amount });
          },
        },
      };
    }
    case 'forfeit': {
      const by = op.by === 'owner' ? w.owner : op.by === 'curator' ? w.curator : contributor(w, (op.who + 1) % 3);
      const allowed = op.by === 'owner' || (op.by === 'curator' && op.dn === 1);
      const real = contentOf(op.who, op.content);
      const contentHash = op.forge === 'otherContent' ? inventedOf(op.who, op.content) : real;
      const reasonHash = hash(`spam at ${now}`);
      const call = async () => {
        const signer = op.forge === 'selfSigned' ? by : s;
        const signedDn: Dn = op.forge === 'otherDataNet' ? (op.dn === 0 ? 1 : 0) : op.dn;
        const signed = await signContribution(w, signer, signedDn, real);
        const signature = op.forge === 'noSignature' ? '0x' : signed.signature;
        return send(c, by, {
          ...registry,
          functionName: 'forfeitBond',
          args: [id, s.address, contentHash, signed.nonce, signed.deadline, signature, reasonHash],
        });
      };
      if (!allowed) return { send: call, expect: { error: 'NotCurator', args: [id, by.address] } };
      if (op.forge !== 'honest')
        return { send: call, expect: { error: 'InvalidContributionSignature', args: [id, s.address, contentHash] } };
      if (p.forfeitedContents.includes(op.content))
        return { send: call, expect: { error: 'AlreadyForfeited', args: [id, s.address, contentHash] } };
      if (p.bond === 0n) return { send: call, expect: { error: 'NoBond', args: [id, s.address] } };
      const due = dueOf(op.dn);
      const amount = due < p.bond ? due : p.bond;
      if (amount === 0n) return { send: call, expect: { error: 'ZeroAmount', args: [] } };
      return {
        send: call,
        expect: {
          apply: (_t, receipt) => {
            const pending = p.unlockAt;
            p.bond = nonNegative(p.bond - amount, 'bond');
            p.unlockAt = 0n;
            p.forfeitedContents.push(op.content);
            m.forfeited[op.dn] = (m.forfeited[op.dn] ?? 0n) + amount;
            const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondForfeited' });
            expect(event?.args).toEqual({
              dataNetId: id,
              contributor: s.address,
              contentHash,
              amount,
              reasonHash,
              curator: by.address,
            });
            expectCancelled(receipt, id, s.address, pending);
          },
        },
      };
    }
  }
}

/** A forfeit or deposit cancels a pending withdrawal request (BondWithdrawalCancelled), and only a pending one. */
function expectCancelled(receipt: TransactionReceipt, id: bigint, contributor: Address, pending: bigint): void {
  const events = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondWithdrawalCancelled' });
  expect(events.map((e) => e.args)).toEqual(
    pending === 0n ? [] : [{ dataNetId: id, contributor, withdrawableAt: pending }],
  );
}

/** `signer`'s EIP-712 Contribution signature of `contentHash` to DataNet `dn` (nonce fixed by the content). */
async function signContribution(w: World, signer: HDAccount, dn: Dn, contentHash: Hex) {
  const nonce = BigInt(contentHash);
  const deadline = 2_000_000_000n;
  const signature = await signDataNetMessage(
    signer,
    { chainId: w.c.clients.chain.id, registry: w.registry.address },
    'Contribution',
    { dataNetId: w.ids[dn], contentHash, licenseId: LICENSE, nonce, deadline },
  );
  return { nonce, deadline, signature };
}

/** The position an op acts on (see {@link Target}). */
function retarget<T extends Op>(m: Model, op: T): T {
  if (op.op === 'forfeit' && op.replay) {
    const spent = DNS.flatMap((dn) =>
      [0, 1, 2].flatMap((who) => m.pos(dn, who).forfeitedContents.map((content) => ({ dn, who, content }))),
    );
    const pick = spent[(op.who * CONTENTS + op.content) % Math.max(spent.length, 1)];
    if (pick) return { ...op, ...pick };
  }
  if (!('focus' in op) || !op.focus) return op;
  const useful = (p: Position): boolean => {
    switch (op.op) {
      case 'withdraw':
      case 'toUnlock':
        return p.unlockAt !== 0n;
      default:
        return p.bond > 0n;
    }
  };
  const candidates = DNS.flatMap((dn) => [0, 1, 2].filter((who) => useful(m.pos(dn, who))).map((who) => ({ who, dn })));
  const pick = candidates[(op.who * 2 + op.dn) % Math.max(candidates.length, 1)];
  return pick ? { ...op, ...pick } : op;
}

/** How often each forfeit outcome happened over the whole run (to prove the dishonest paths were exercised). */
const forfeitOutcomes = new Map<string, number>();

async function step(w: World, m: Model, original: Op): Promise<void> {
  const { c } = w;
  const op = retarget(m, original);
  const now = (await c.clients.public.getBlock()).timestamp;
  if (op.op === 'advance') return warpTo(c, now + op.seconds);
  if (op.op === 'toUnlock') {
    const unlockAt = m.pos(op.dn, op.who).unlockAt;
    const to = unlockAt !== 0n ? unlockAt + op.delta : now + 1n;
    if (to > now) await warpTo(c, to);
    return;
  }
  const { send: run, expect: expected } = plan(w, m, op, now);
  if (op.op === 'forfeit') {
    const outcome = expected.error ?? 'forfeited';
    forfeitOutcomes.set(outcome, (forfeitOutcomes.get(outcome) ?? 0) + 1);
  }
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
}

/** isForfeited on chain for each of a contributor's CONTENTS content hashes. */
const forfeitedFlags = (w: World, dn: Dn, contributor: Address, contentHash: (k: number) => Hex) =>
  Promise.all(
    Array.from({ length: CONTENTS }, (_, k) =>
      w.reader.readContract({
        ...w.registry,
        functionName: 'isForfeited',
        args: [w.ids[dn], contributor, contentHash(k)],
      }),
    ),
  );

/** Everything the chain must agree on with the model. */
async function check(w: World, m: Model): Promise<void> {
  const { c, reader, registry } = w;
  const token = c.token;
  const pairs = DNS.flatMap((dn) => w.contributors.map((s, who) => ({ dn, who, s })));
  const [supply, held, treasuries, wallets, positions] = await Promise.all([
    reader.readContract({ ...token, functionName: 'totalSupply' }),
    reader.readContract({ ...token, functionName: 'balanceOf', args: [registry.address] }),
    Promise.all(SETTINGS.map((s) => reader.readContract({ ...token, functionName: 'balanceOf', args: [s.treasury] }))),
    Promise.all(
      w.contributors.map((s) => reader.readContract({ ...token, functionName: 'balanceOf', args: [s.address] })),
    ),
    Promise.all(
      pairs.map(({ dn, s }) =>
        Promise.all([
          reader.readContract({ ...registry, functionName: 'bondOf', args: [w.ids[dn], s.address] }),
          reader.readContract({ ...registry, functionName: 'bondWithdrawableAt', args: [w.ids[dn], s.address] }),
          forfeitedFlags(w, dn, s.address, (k) => contentOf(w.contributors.indexOf(s), k)),
          forfeitedFlags(w, dn, s.address, (k) => inventedOf(w.contributors.indexOf(s), k)),
        ]),
      ),
    ),
  ]);

  expect(supply, 'OPEN supply is constant').toBe(TOTAL_SUPPLY);
  expect(held, 'the registry holds exactly the sum of all bonds').toBe(m.totalBonds());
  expect(
    treasuries.map((b, i) => b - (w.treasuryBefore[i] ?? 0n)),
    'each treasury received exactly what was forfeited in its DataNet',
  ).toEqual(m.forfeited);
  expect(wallets, 'contributor wallets').toEqual(m.wallet);
  for (const [i, { dn, who }] of pairs.entries()) {
    const [bond, unlockAt, forfeitedOnChain, inventedOnChain] = positions[i] ?? [];
    const p = m.pos(dn, who);
    expect(bond, `bondOf(DataNet ${dn}, contributor ${who})`).toBe(nonNegative(p.bond, 'bond'));
    expect(unlockAt, `bondWithdrawableAt(DataNet ${dn}, contributor ${who})`).toBe(p.unlockAt);
    // Safety, from the chain's own numbers: no invented contribution ever forfeited, and what the contributor lost
    // (deposits - withdrawals - bond left) is at most one forfeit share per distinct signed contribution forfeited.
    expect(inventedOnChain, `no invented contribution of ${who} forfeited in DataNet ${dn}`).toEqual(
      Array.from({ length: CONTENTS }, () => false),
    );
    const forfeits = BigInt((forfeitedOnChain ?? []).filter(Boolean).length);
    expect(forfeitedOnChain).toEqual(Array.from({ length: CONTENTS }, (_, k) => p.forfeitedContents.includes(k)));
    const lost = p.deposited - p.withdrawn - (bond ?? 0n);
    expect(lost >= 0n && lost <= dueOf(dn) * forfeits, `contributor ${who} lost ${lost} in DataNet ${dn}`).toBe(true);
  }
}

describe('DataNetRegistry bonds (model-based)', () => {
  it('keeps bonds, unlock times, wallets and treasuries in step with the model over random operations', async () => {
    const c = chain();
    const [s0, s1, s2, owner, curator] = c.users as [HDAccount, HDAccount, HDAccount, HDAccount, HDAccount];
    const contributors = [s0, s1, s2];
    const registry = {
      address: c.deployment.contracts.DataNetRegistry,
      abi,
      contract: 'DataNetRegistry',
    } as const;
    const ids: bigint[] = [];
    for (const s of SETTINGS) {
      const receipt = await send(c, owner, {
        ...registry,
        functionName: 'createDataNet',
        args: ['bafy-meta', hash('schema'), LICENSE, s.bondAmount, s.forfeitBps, s.treasury],
      });
      const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'DataNetCreated' });
      if (!event) throw new Error('no DataNetCreated');
      ids.push(event.args.dataNetId);
    }
    const [id0, id1] = ids as [bigint, bigint];
    await send(c, owner, { ...registry, functionName: 'addCurator', args: [id1, curator.address] });
    for (const s of contributors) {
      await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [s.address, FUNDING] });
      await send(c, s, { ...c.token, functionName: 'approve', args: [registry.address, maxUint256] });
    }
    const reader = createPublicClient({
      chain: c.clients.chain,
      transport: http(c.clients.rpcUrl, { batch: true }),
    }) as PublicClient;
    const w: World = {
      c,
      reader,
      registry,
      contributors,
      owner,
      curator,
      ids: [id0, id1],
      treasuryBefore: await Promise.all(
        SETTINGS.map((s) => reader.readContract({ ...c.token, functionName: 'balanceOf', args: [s.treasury] })),
      ),
    };

    // Every run starts from the same bonded state (bonds in both DataNets, one request pending), reached
    // through the model like any other step.
    const start = new Model();
    const abs = (v: bigint): AmountSpec => ({ kind: 'abs', value: v });
    const at = (who: number, dn: Dn) => ({ who, dn, focus: false });
    const seed: Op[] = [
      { op: 'deposit', ...at(0, 0), amount: abs(100n * OPEN) },
      { op: 'deposit', ...at(1, 0), amount: abs(30n * OPEN) },
      { op: 'deposit', ...at(1, 1), amount: abs(25n * OPEN) },
      { op: 'deposit', ...at(2, 1), amount: abs(10n * OPEN) },
      { op: 'request', ...at(1, 1) },
      { op: 'advance', seconds: DAY },
      { op: 'forfeit', ...at(2, 1), by: 'curator', content: 0, forge: 'honest', replay: false },
      // The owner replays it: refused (AlreadyForfeited), whatever the bond.
      { op: 'forfeit', ...at(2, 1), by: 'owner', content: 0, forge: 'honest', replay: false },
    ];
    for (const op of seed) {
      await step(w, start, op);
      await check(w, start);
    }
    expect(start.totalBonds()).toBe(155n * OPEN);
    expect(start.forfeited).toEqual([0n, 10n * OPEN]);

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
      { numRuns: 40 },
    );
    // Replays, invented contributions and honest forfeits all happened, and only the honest ones went through.
    for (const outcome of ['forfeited', 'AlreadyForfeited', 'InvalidContributionSignature'])
      expect(forfeitOutcomes.get(outcome) ?? 0, `forfeits ending in ${outcome}`).toBeGreaterThan(0);
  });
});
