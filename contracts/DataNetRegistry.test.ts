/**
 * DataNetRegistry against a real anvil: DataNet creation, owner and curator rights, versions committed in order,
 * Merkle inclusion proofs over real contribution ids (the same leaves the TypeScript side builds), and contributor
 * bonds (deposit, delayed withdrawal, forfeits to the treasury). Every custom error is checked with its arguments.
 */
import fc from 'fast-check';
import {
  type Address,
  createPublicClient,
  getAddress,
  type HDAccount,
  type Hex,
  hashTypedData,
  http,
  keccak256,
  maxUint256,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  toHex,
  zeroAddress,
  zeroHash,
} from 'viem';
import { describe, expect, it } from 'vitest';
import { contractError, DataNetRegistryArtifact, merkleTree, OPEN, verifyMerkleProof } from '../src/chain/index.js';
import { dataNetDomain, dataNetTypes } from '../src/core/index.js';
import { contributionId, signDataNetMessage } from '../src/datanets/index.js';
import { expectRevert, send, type TestChain, useTestChain, warpTo } from '../test/fixtures/chain.js';

const chain = useTestChain();

const abi = DataNetRegistryArtifact.abi;
const DAY = 86_400n;
const DELAY = 3n * DAY;
const hash = (text: string): Hex => keccak256(stringToHex(text));
const SCHEMA = hash('{"type":"object"}');
const LICENSE = hash('CC-BY-4.0');
const TREASURY = getAddress(`0x${'7e'.repeat(20)}`);

const registryOf = (c: TestChain) =>
  ({ address: c.deployment.contracts.DataNetRegistry, abi, contract: 'DataNetRegistry' }) as const;

const blockTime = async (c: TestChain, receipt?: TransactionReceipt) =>
  (await c.clients.public.getBlock(receipt ? { blockNumber: receipt.blockNumber } : {})).timestamp;

/** Moves the clock `seconds` forward from the latest block (mining one block). */
async function advanceBy(c: TestChain, seconds: bigint): Promise<void> {
  await warpTo(c, (await blockTime(c)) + seconds);
}

/** A view call whose revert surfaces as CONTRACT_REVERTED, like a transaction's would. */
const viewCall = <T>(p: Promise<T>, functionName: string): Promise<T> =>
  p.catch((e: unknown) => {
    throw contractError(e, `DataNetRegistry.${functionName}`, abi);
  });

const users = (c: TestChain, n: number): HDAccount[] => {
  const out = c.users.slice(0, n);
  if (out.length !== n) throw new Error(`only ${c.users.length} users`);
  return out;
};

interface CreateOptions {
  metadataCID?: string;
  schemaHash?: Hex;
  licenseId?: Hex;
  bondAmount?: bigint;
  forfeitBps?: number;
  treasury?: Address;
}

const createCall = (c: TestChain, o: CreateOptions = {}) =>
  ({
    ...registryOf(c),
    functionName: 'createDataNet',
    args: [
      o.metadataCID ?? 'bafy-metadata',
      o.schemaHash ?? SCHEMA,
      o.licenseId ?? LICENSE,
      o.bondAmount ?? 0n,
      o.forfeitBps ?? 0,
      o.treasury ?? TREASURY,
    ],
  }) as const;

/** Creates a DataNet owned by `owner` and returns its id (from the DataNetCreated event). */
async function create(c: TestChain, owner: HDAccount, o: CreateOptions = {}): Promise<bigint> {
  const receipt = await send(c, owner, createCall(c, o));
  const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'DataNetCreated' });
  if (!event) throw new Error('no DataNetCreated event');
  return event.args.dataNetId;
}

const commit = (
  c: TestChain,
  by: HDAccount | Address,
  id: bigint,
  version: bigint,
  root: Hex,
  count: bigint,
  cid = '',
) =>
  send(c, by, {
    ...registryOf(c),
    functionName: 'commitVersion',
    args: [id, version, root, count, cid || `bafy-manifest-${version}`],
  });
const addCurator = (c: TestChain, by: HDAccount, id: bigint, account: Address) =>
  send(c, by, { ...registryOf(c), functionName: 'addCurator', args: [id, account] });
const removeCurator = (c: TestChain, by: HDAccount, id: bigint, account: Address) =>
  send(c, by, { ...registryOf(c), functionName: 'removeCurator', args: [id, account] });
const deposit = (c: TestChain, who: HDAccount, id: bigint, amount: bigint) =>
  send(c, who, { ...registryOf(c), functionName: 'depositBond', args: [id, amount] });
const requestWithdrawal = (c: TestChain, who: HDAccount, id: bigint) =>
  send(c, who, { ...registryOf(c), functionName: 'requestBondWithdrawal', args: [id] });
const withdraw = (c: TestChain, who: HDAccount, id: bigint, amount: bigint) =>
  send(c, who, { ...registryOf(c), functionName: 'withdrawBond', args: [id, amount] });

/** A contribution as its contributor signed it (EIP-712 Contribution, the same message ingest verifies). */
interface SignedContribution {
  contentHash: Hex;
  nonce: bigint;
  deadline: bigint;
  signature: Hex;
}

/** `who` signs a contribution of `contentHash` to DataNet `id` under `licenseId` (the DataNet's by default). */
async function signContribution(
  c: TestChain,
  who: HDAccount,
  id: bigint,
  contentHash: Hex,
  o: { nonce?: bigint; deadline?: bigint; licenseId?: Hex; registry?: Address; chainId?: number } = {},
): Promise<SignedContribution> {
  const nonce = o.nonce ?? BigInt(keccak256(toHex(`${who.address} ${contentHash}`)));
  const deadline = o.deadline ?? 2_000_000_000n;
  const signature = await signDataNetMessage(
    who,
    { chainId: o.chainId ?? c.clients.chain.id, registry: o.registry ?? registryOf(c).address },
    'Contribution',
    { dataNetId: id, contentHash, licenseId: o.licenseId ?? LICENSE, nonce, deadline },
  );
  return { contentHash, nonce, deadline, signature };
}

/** A forfeit backed by the contributor's signed contribution `s`. */
const forfeitSigned = (
  c: TestChain,
  by: HDAccount,
  id: bigint,
  contributor: Address,
  s: SignedContribution,
  reasonHash: Hex,
) =>
  send(c, by, {
    ...registryOf(c),
    functionName: 'forfeitBond',
    args: [id, contributor, s.contentHash, s.nonce, s.deadline, s.signature, reasonHash],
  });

/** A forfeit of `contributor`'s contribution of `contentHash`, which `contributor` signed. */
const forfeit = async (
  c: TestChain,
  by: HDAccount,
  id: bigint,
  contributor: HDAccount,
  contentHash: Hex,
  reasonHash: Hex,
) => forfeitSigned(c, by, id, contributor.address, await signContribution(c, contributor, id, contentHash), reasonHash);

const getDataNet = (c: TestChain, id: bigint) =>
  viewCall(c.clients.public.readContract({ ...registryOf(c), functionName: 'getDataNet', args: [id] }), 'getDataNet');
const getVersion = (c: TestChain, id: bigint, version: bigint) =>
  viewCall(
    c.clients.public.readContract({ ...registryOf(c), functionName: 'getVersion', args: [id, version] }),
    'getVersion',
  );
const isCurator = (c: TestChain, id: bigint, account: Address) =>
  viewCall(
    c.clients.public.readContract({ ...registryOf(c), functionName: 'isCurator', args: [id, account] }),
    'isCurator',
  );
const verify = (c: TestChain, id: bigint, version: bigint, leaf: Hex, proof: readonly Hex[]) =>
  viewCall(
    c.clients.public.readContract({
      ...registryOf(c),
      functionName: 'verifyContribution',
      args: [id, version, leaf, proof],
    }),
    'verifyContribution',
  );
const dataNetCount = (c: TestChain) =>
  c.clients.public.readContract({ ...registryOf(c), functionName: 'dataNetCount' });
const bondOf = (c: TestChain, id: bigint, who: Address) =>
  c.clients.public.readContract({ ...registryOf(c), functionName: 'bondOf', args: [id, who] });
const withdrawableAt = (c: TestChain, id: bigint, who: Address) =>
  c.clients.public.readContract({ ...registryOf(c), functionName: 'bondWithdrawableAt', args: [id, who] });
const isForfeited = (c: TestChain, id: bigint, who: Address, contentHash: Hex) =>
  c.clients.public.readContract({ ...registryOf(c), functionName: 'isForfeited', args: [id, who, contentHash] });
const balanceOf = (c: TestChain, who: Address) =>
  c.clients.public.readContract({ ...c.token, functionName: 'balanceOf', args: [who] });

/** Sends `amount` OPEN from the deployer's liquidity to `who` and (by default) approves the registry for all. */
async function fund(c: TestChain, who: HDAccount, amount: bigint, approve = true): Promise<void> {
  await send(c, c.deployer, { ...c.token, functionName: 'transfer', args: [who.address, amount] });
  if (approve) await send(c, who, { ...c.token, functionName: 'approve', args: [registryOf(c).address, maxUint256] });
}

const randomAddress = (i: number): Address => getAddress(keccak256(toHex(`contributor ${i}`)).slice(0, 42));

describe('DataNetRegistry: deployment', () => {
  it('is wired to OPEN, starts empty, and waits 3 days before a bond can leave', async () => {
    const c = chain();
    const reg = registryOf(c);
    expect(await c.clients.public.readContract({ ...reg, functionName: 'token' })).toBe(c.token.address);
    expect(await c.clients.public.readContract({ ...reg, functionName: 'BOND_WITHDRAWAL_DELAY' })).toBe(DELAY);
    expect(await dataNetCount(c)).toBe(0n);
    expect(await balanceOf(c, reg.address)).toBe(0n);
  });
});

describe('DataNetRegistry: createDataNet', () => {
  it('numbers DataNets from 1, emits DataNetCreated and stores every setting', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const settings = [
      { by: alice, o: { metadataCID: 'bafy-one', bondAmount: 0n, forfeitBps: 0 } },
      {
        by: bob,
        o: {
          metadataCID: 'bafy-two',
          schemaHash: hash('schema two'),
          licenseId: hash('MIT'),
          bondAmount: 100n * OPEN,
          forfeitBps: 10_000,
          treasury: alice.address,
        },
      },
      { by: alice, o: { metadataCID: '', bondAmount: 1n, forfeitBps: 1 } },
    ];
    for (const [i, { by, o }] of settings.entries()) {
      const id = BigInt(i + 1);
      const receipt = await send(c, by, createCall(c, o));
      const events = parseEventLogs({ abi, logs: receipt.logs });
      expect(events).toHaveLength(1);
      const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'DataNetCreated' });
      expect(event?.address).toBe(registryOf(c).address.toLowerCase());
      expect(event?.args).toEqual({
        dataNetId: id,
        owner: by.address,
        metadataCID: o.metadataCID,
        schemaHash: o.schemaHash ?? SCHEMA,
        licenseId: o.licenseId ?? LICENSE,
        bondAmount: o.bondAmount,
        forfeitBps: o.forfeitBps,
        treasury: o.treasury ?? TREASURY,
      });
      expect(await dataNetCount(c)).toBe(id);
      expect(await getDataNet(c, id)).toEqual({
        owner: by.address,
        treasury: o.treasury ?? TREASURY,
        schemaHash: o.schemaHash ?? SCHEMA,
        licenseId: o.licenseId ?? LICENSE,
        bondAmount: o.bondAmount,
        forfeitBps: o.forfeitBps,
        versionCount: 0n,
        metadataCID: o.metadataCID,
      });
      // The owner counts as a curator; nobody else does yet.
      expect(await isCurator(c, id, by.address)).toBe(true);
      expect(await isCurator(c, id, (by === alice ? bob : alice).address)).toBe(false);
    }
    // The simulated return value is the next id.
    const { result } = await c.clients.public.simulateContract({ ...createCall(c), account: alice });
    expect(result).toBe(4n);
  });

  it('refuses a zero treasury and basis points above 10,000, creating nothing', async () => {
    const c = chain();
    const [alice] = users(c, 1) as [HDAccount];
    const zero = await expectRevert(send(c, alice, createCall(c, { treasury: zeroAddress })), 'ZeroAddress', []);
    expect(zero.message).toBe('DataNetRegistry.createDataNet reverted with ZeroAddress()');
    const bps = await expectRevert(send(c, alice, createCall(c, { forfeitBps: 10_001 })), 'InvalidBps', [10_001n]);
    expect(bps.message).toBe('DataNetRegistry.createDataNet reverted with InvalidBps("10001")');
    await expectRevert(send(c, alice, createCall(c, { forfeitBps: 65_535 })), 'InvalidBps', [65_535n]);
    expect(await dataNetCount(c)).toBe(0n);
    // Exactly 10,000 is fine.
    expect(await create(c, alice, { forfeitBps: 10_000 })).toBe(1n);
  });
});

describe('DataNetRegistry: unknown ids', () => {
  it('reverts UnknownDataNet(id) for id 0 and past the last id, in every function that looks the DataNet up', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    await create(c, alice);
    await fund(c, alice, 10n * OPEN);
    for (const id of [0n, 2n, 2n ** 256n - 1n]) {
      const reg = registryOf(c);
      const err = await expectRevert(
        send(c, alice, { ...reg, functionName: 'updateMetadata', args: [id, 'x'] }),
        'UnknownDataNet',
        [id],
      );
      expect(err.message).toBe(`DataNetRegistry.updateMetadata reverted with UnknownDataNet("${id}")`);
      await expectRevert(
        send(c, alice, { ...reg, functionName: 'transferOwnership', args: [id, bob.address] }),
        'UnknownDataNet',
        [id],
      );
      await expectRevert(addCurator(c, alice, id, bob.address), 'UnknownDataNet', [id]);
      await expectRevert(removeCurator(c, alice, id, bob.address), 'UnknownDataNet', [id]);
      await expectRevert(commit(c, alice, id, 1n, hash('root'), 1n), 'UnknownDataNet', [id]);
      await expectRevert(deposit(c, alice, id, OPEN), 'UnknownDataNet', [id]);
      await expectRevert(forfeit(c, alice, id, bob, hash('c'), hash('r')), 'UnknownDataNet', [id]);
      await expectRevert(getDataNet(c, id), 'UnknownDataNet', [id]);
      await expectRevert(getVersion(c, id, 1n), 'UnknownDataNet', [id]);
      await expectRevert(isCurator(c, id, alice.address), 'UnknownDataNet', [id]);
      await expectRevert(verify(c, id, 1n, hash('leaf'), []), 'UnknownDataNet', [id]);
      await expectRevert(requestWithdrawal(c, alice, id), 'UnknownDataNet', [id]);
      await expectRevert(withdraw(c, alice, id, 1n), 'UnknownDataNet', [id]);
      // Nobody can hold a bond in an unknown DataNet: the bond views read zero.
      expect(await bondOf(c, id, alice.address)).toBe(0n);
      expect(await withdrawableAt(c, id, alice.address)).toBe(0n);
    }
    expect(await balanceOf(c, alice.address)).toBe(10n * OPEN);
  });
});

describe('DataNetRegistry: owner rights', () => {
  it('updates the metadata CID (owner only), keeping schema and license', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { metadataCID: 'bafy-v1', bondAmount: 5n, forfeitBps: 100 });
    const before = await getDataNet(c, id);
    const receipt = await send(c, alice, { ...registryOf(c), functionName: 'updateMetadata', args: [id, 'bafy-v2'] });
    const [event, ...rest] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'MetadataUpdated' });
    expect(rest).toHaveLength(0);
    expect(event?.args).toEqual({ dataNetId: id, metadataCID: 'bafy-v2' });
    expect(await getDataNet(c, id)).toEqual({ ...before, metadataCID: 'bafy-v2' });

    const err = await expectRevert(
      send(c, bob, { ...registryOf(c), functionName: 'updateMetadata', args: [id, 'bafy-evil'] }),
      'NotOwner',
      [id, bob.address],
    );
    expect(err.message).toBe(`DataNetRegistry.updateMetadata reverted with NotOwner("1", "${bob.address}")`);
    expect((await getDataNet(c, id)).metadataCID).toBe('bafy-v2');
  });

  it('refuses owner-only calls from strangers and from curators alike', async () => {
    const c = chain();
    const [alice, curator, stranger, dave] = users(c, 4) as [HDAccount, HDAccount, HDAccount, HDAccount];
    const id = await create(c, alice);
    await addCurator(c, alice, id, curator.address);
    const reg = registryOf(c);
    for (const who of [curator, stranger]) {
      await expectRevert(send(c, who, { ...reg, functionName: 'updateMetadata', args: [id, 'x'] }), 'NotOwner', [
        id,
        who.address,
      ]);
      await expectRevert(
        send(c, who, { ...reg, functionName: 'transferOwnership', args: [id, who.address] }),
        'NotOwner',
        [id, who.address],
      );
      await expectRevert(addCurator(c, who, id, dave.address), 'NotOwner', [id, who.address]);
      await expectRevert(removeCurator(c, who, id, curator.address), 'NotOwner', [id, who.address]);
    }
    expect((await getDataNet(c, id)).owner).toBe(alice.address);
  });

  it('transfers ownership: the old owner loses every right, the new owner gains them, curators stay', async () => {
    const c = chain();
    const [alice, bob, carol, dave] = users(c, 4) as [HDAccount, HDAccount, HDAccount, HDAccount];
    const id = await create(c, alice);
    await addCurator(c, alice, id, carol.address);
    const reg = registryOf(c);
    await expectRevert(
      send(c, alice, { ...reg, functionName: 'transferOwnership', args: [id, zeroAddress] }),
      'ZeroAddress',
      [],
    );
    const receipt = await send(c, alice, { ...reg, functionName: 'transferOwnership', args: [id, bob.address] });
    const [event, ...rest] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'OwnershipTransferred' });
    expect(rest).toHaveLength(0);
    expect(event?.args).toEqual({ dataNetId: id, previousOwner: alice.address, newOwner: bob.address });
    expect((await getDataNet(c, id)).owner).toBe(bob.address);
    expect(await isCurator(c, id, alice.address)).toBe(false);
    expect(await isCurator(c, id, bob.address)).toBe(true);
    expect(await isCurator(c, id, carol.address)).toBe(true);

    // The old owner: no owner rights, no curator rights.
    await expectRevert(send(c, alice, { ...reg, functionName: 'updateMetadata', args: [id, 'x'] }), 'NotOwner', [
      id,
      alice.address,
    ]);
    await expectRevert(addCurator(c, alice, id, dave.address), 'NotOwner', [id, alice.address]);
    await expectRevert(removeCurator(c, alice, id, carol.address), 'NotOwner', [id, alice.address]);
    await expectRevert(
      send(c, alice, { ...reg, functionName: 'transferOwnership', args: [id, alice.address] }),
      'NotOwner',
      [id, alice.address],
    );
    await expectRevert(commit(c, alice, id, 1n, hash('root'), 1n), 'NotCurator', [id, alice.address]);

    // The new owner: all of them.
    await send(c, bob, { ...reg, functionName: 'updateMetadata', args: [id, 'bafy-bob'] });
    await addCurator(c, bob, id, dave.address);
    await commit(c, bob, id, 1n, hash('root 1'), 3n);
    await commit(c, carol, id, 2n, hash('root 2'), 4n);
    await commit(c, dave, id, 3n, hash('root 3'), 5n);
    expect(await getDataNet(c, id)).toMatchObject({ owner: bob.address, metadataCID: 'bafy-bob', versionCount: 3n });
    // And can hand it back.
    await send(c, bob, { ...reg, functionName: 'transferOwnership', args: [id, alice.address] });
    expect(await isCurator(c, id, alice.address)).toBe(true);
    expect(await isCurator(c, id, bob.address)).toBe(false);
  });
});

describe('DataNetRegistry: curators', () => {
  it('adds and removes curators with events; a removed curator can no longer commit or forfeit', async () => {
    const c = chain();
    const [alice, carol, stranger] = users(c, 3) as [HDAccount, HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 5_000 });
    const other = await create(c, alice);
    expect(await isCurator(c, id, carol.address)).toBe(false);

    const added = await addCurator(c, alice, id, carol.address);
    const [a, ...restA] = parseEventLogs({ abi, logs: added.logs, eventName: 'CuratorAdded' });
    expect(restA).toHaveLength(0);
    expect(a?.args).toEqual({ dataNetId: id, account: carol.address });
    expect(await isCurator(c, id, carol.address)).toBe(true);
    // Curators are per DataNet.
    expect(await isCurator(c, other, carol.address)).toBe(false);
    await expectRevert(commit(c, carol, other, 1n, hash('r'), 1n), 'NotCurator', [other, carol.address]);

    const v1 = await commit(c, carol, id, 1n, hash('root 1'), 2n);
    const [committed] = parseEventLogs({ abi, logs: v1.logs, eventName: 'VersionCommitted' });
    expect(committed?.args.committer).toBe(carol.address);
    await fund(c, stranger, 10n * OPEN);
    await deposit(c, stranger, id, 10n * OPEN);
    const f = await forfeit(c, carol, id, stranger, hash('spam'), hash('reason'));
    const [forfeited] = parseEventLogs({ abi, logs: f.logs, eventName: 'BondForfeited' });
    expect(forfeited?.args.curator).toBe(carol.address);

    const removed = await removeCurator(c, alice, id, carol.address);
    const [r, ...restR] = parseEventLogs({ abi, logs: removed.logs, eventName: 'CuratorRemoved' });
    expect(restR).toHaveLength(0);
    expect(r?.args).toEqual({ dataNetId: id, account: carol.address });
    expect(await isCurator(c, id, carol.address)).toBe(false);
    const err = await expectRevert(commit(c, carol, id, 2n, hash('root 2'), 2n), 'NotCurator', [id, carol.address]);
    expect(err.message).toBe(`DataNetRegistry.commitVersion reverted with NotCurator("1", "${carol.address}")`);
    await expectRevert(forfeit(c, carol, id, stranger, hash('spam'), hash('reason')), 'NotCurator', [
      id,
      carol.address,
    ]);
    // Re-adding works.
    await addCurator(c, alice, id, carol.address);
    await commit(c, carol, id, 2n, hash('root 2'), 2n);
  });

  it('refuses the zero address, adding a curator twice and removing a non-curator (CuratorUnchanged)', async () => {
    const c = chain();
    const [alice, carol, dave] = users(c, 3) as [HDAccount, HDAccount, HDAccount];
    const id = await create(c, alice);
    await expectRevert(addCurator(c, alice, id, zeroAddress), 'ZeroAddress', []);
    await addCurator(c, alice, id, carol.address);
    const twice = await expectRevert(addCurator(c, alice, id, carol.address), 'CuratorUnchanged', [
      id,
      carol.address,
      true,
    ]);
    expect(twice.message).toBe(
      `DataNetRegistry.addCurator reverted with CuratorUnchanged("1", "${carol.address}", true)`,
    );
    await expectRevert(removeCurator(c, alice, id, dave.address), 'CuratorUnchanged', [id, dave.address, false]);
    await expectRevert(removeCurator(c, alice, id, zeroAddress), 'CuratorUnchanged', [id, zeroAddress, false]);
    // The owner is a curator by ownership, not by the curator list: it cannot be removed from it.
    await expectRevert(removeCurator(c, alice, id, alice.address), 'CuratorUnchanged', [id, alice.address, false]);
    await removeCurator(c, alice, id, carol.address);
    await expectRevert(removeCurator(c, alice, id, carol.address), 'CuratorUnchanged', [id, carol.address, false]);
  });

  it('keeps an explicitly listed owner as a curator after it hands the DataNet over', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice);
    await addCurator(c, alice, id, alice.address);
    await send(c, alice, { ...registryOf(c), functionName: 'transferOwnership', args: [id, bob.address] });
    expect(await isCurator(c, id, alice.address)).toBe(true);
    await commit(c, alice, id, 1n, hash('root'), 1n);
    await expectRevert(
      send(c, alice, { ...registryOf(c), functionName: 'updateMetadata', args: [id, 'x'] }),
      'NotOwner',
      [id, alice.address],
    );
    await removeCurator(c, bob, id, alice.address);
    expect(await isCurator(c, id, alice.address)).toBe(false);
  });
});

describe('DataNetRegistry: versions', () => {
  it('commits versions 1..n in order, each readable with root, count, time and manifest', async () => {
    const c = chain();
    const [alice, carol] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice);
    await addCurator(c, alice, id, carol.address);
    const expected: { root: Hex; count: bigint; committedAt: bigint; manifestCID: string }[] = [];
    for (let v = 1n; v <= 5n; v++) {
      const by = v % 2n === 0n ? carol : alice;
      const root = hash(`root ${v}`);
      const count = v * 100n + 1n;
      const receipt = await commit(c, by, id, v, root, count, `bafy-manifest-${v}`);
      const events = parseEventLogs({ abi, logs: receipt.logs });
      expect(events).toHaveLength(1);
      const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'VersionCommitted' });
      expect(event?.args).toEqual({
        dataNetId: id,
        version: v,
        root,
        count,
        manifestCID: `bafy-manifest-${v}`,
        committer: by.address,
      });
      expected.push({ root, count, committedAt: await blockTime(c, receipt), manifestCID: `bafy-manifest-${v}` });
      expect((await getDataNet(c, id)).versionCount).toBe(v);
    }
    for (const [i, version] of expected.entries()) expect(await getVersion(c, id, BigInt(i + 1))).toEqual(version);
    // Another DataNet's versions start at 1 independently.
    const other = await create(c, alice);
    await commit(c, alice, other, 1n, hash('other'), 1n);
    expect((await getVersion(c, other, 1n)).root).toBe(hash('other'));
    expect((await getDataNet(c, id)).versionCount).toBe(5n);
  });

  it('refuses a version out of order: skipping ahead, version 0, or re-committing an old number', async () => {
    const c = chain();
    const [alice] = users(c, 1) as [HDAccount];
    const id = await create(c, alice);
    const skip = await expectRevert(commit(c, alice, id, 2n, hash('r'), 1n), 'VersionOutOfOrder', [id, 1n, 2n]);
    expect(skip.message).toBe('DataNetRegistry.commitVersion reverted with VersionOutOfOrder("1", "1", "2")');
    await expectRevert(commit(c, alice, id, 0n, hash('r'), 1n), 'VersionOutOfOrder', [id, 1n, 0n]);
    await expectRevert(commit(c, alice, id, 2n ** 64n - 1n, hash('r'), 1n), 'VersionOutOfOrder', [
      id,
      1n,
      2n ** 64n - 1n,
    ]);
    await commit(c, alice, id, 1n, hash('r1'), 1n);
    await commit(c, alice, id, 2n, hash('r2'), 1n);
    // A retried commit of version 2, an older number, and a skip: all refused, nothing overwritten.
    await expectRevert(commit(c, alice, id, 2n, hash('r2 again'), 1n), 'VersionOutOfOrder', [id, 3n, 2n]);
    await expectRevert(commit(c, alice, id, 1n, hash('r1 again'), 1n), 'VersionOutOfOrder', [id, 3n, 1n]);
    await expectRevert(commit(c, alice, id, 4n, hash('r4'), 1n), 'VersionOutOfOrder', [id, 3n, 4n]);
    expect((await getVersion(c, id, 1n)).root).toBe(hash('r1'));
    expect((await getVersion(c, id, 2n)).root).toBe(hash('r2'));
    expect((await getDataNet(c, id)).versionCount).toBe(2n);
  });

  it('refuses an empty version (zero root or zero count)', async () => {
    const c = chain();
    const [alice] = users(c, 1) as [HDAccount];
    const id = await create(c, alice);
    const err = await expectRevert(commit(c, alice, id, 1n, zeroHash, 1n), 'EmptyVersion', []);
    expect(err.message).toBe('DataNetRegistry.commitVersion reverted with EmptyVersion()');
    await expectRevert(commit(c, alice, id, 1n, hash('r'), 0n), 'EmptyVersion', []);
    await expectRevert(commit(c, alice, id, 1n, zeroHash, 0n), 'EmptyVersion', []);
    // The order is checked first.
    await expectRevert(commit(c, alice, id, 2n, zeroHash, 0n), 'VersionOutOfOrder', [id, 1n, 2n]);
    expect((await getDataNet(c, id)).versionCount).toBe(0n);
  });

  it('refuses a stranger (NotCurator) and reports UnknownVersion for 0 and beyond the count', async () => {
    const c = chain();
    const [alice, stranger] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice);
    await expectRevert(commit(c, stranger, id, 1n, hash('r'), 1n), 'NotCurator', [id, stranger.address]);
    const none = await expectRevert(getVersion(c, id, 1n), 'UnknownVersion', [id, 1n]);
    expect(none.message).toBe('DataNetRegistry.getVersion reverted with UnknownVersion("1", "1")');
    await commit(c, alice, id, 1n, hash('r1'), 1n);
    await commit(c, alice, id, 2n, hash('r2'), 1n);
    for (const v of [0n, 3n, 2n ** 64n - 1n]) {
      await expectRevert(getVersion(c, id, v), 'UnknownVersion', [id, v]);
      await expectRevert(verify(c, id, v, hash('r1'), []), 'UnknownVersion', [id, v]);
    }
  });
});

describe('DataNetRegistry: contribution proofs', () => {
  it('verifies every leaf of a real tree of contribution ids, and nothing else', async () => {
    const c = chain();
    const [alice] = users(c, 1) as [HDAccount];
    const id = await create(c, alice);
    const contributions = Array.from({ length: 13 }, (_, i) => ({
      contributor: randomAddress(i % 4),
      contentHash: hash(`row ${i}`),
    }));
    const leaves = contributions.map((x) => contributionId(id, x.contributor, x.contentHash, LICENSE));
    const tree = merkleTree(leaves);
    await commit(c, alice, id, 1n, tree.root, BigInt(leaves.length));
    expect((await getVersion(c, id, 1n)).root).toBe(tree.root);
    for (const leaf of leaves) {
      const proof = tree.proof(leaf);
      expect(verifyMerkleProof(tree.root, leaf, proof)).toBe(true);
      expect(await verify(c, id, 1n, leaf, proof)).toBe(true);
    }

    const [first, second] = leaves as [Hex, Hex];
    const firstProof = tree.proof(first);
    const x = contributions[0] as { contributor: Address; contentHash: Hex };
    // A wrong leaf: same row under another license, another DataNet, another contributor, or not hashed twice.
    const wrongLeaves = [
      contributionId(id, x.contributor, x.contentHash, hash('MIT')),
      contributionId(id + 1n, x.contributor, x.contentHash, LICENSE),
      contributionId(id, randomAddress(99), x.contentHash, LICENSE),
      contributionId(id, x.contributor, hash('row 999'), LICENSE),
      keccak256(first),
    ];
    for (const leaf of wrongLeaves) expect(await verify(c, id, 1n, leaf, firstProof)).toBe(false);
    // A wrong proof: another leaf's, a truncated one, a tampered one, none.
    expect(await verify(c, id, 1n, first, tree.proof(second))).toBe(false);
    expect(await verify(c, id, 1n, first, firstProof.slice(0, -1))).toBe(false);
    expect(await verify(c, id, 1n, first, [hash('tampered'), ...firstProof.slice(1)])).toBe(false);
    expect(await verify(c, id, 1n, first, [])).toBe(false);
    // As with any OpenZeppelin MerkleProof check, the view proves a path, not that `leaf` is a leaf: the root
    // with an empty proof passes. Callers must build the leaf from the contribution's fields (contributionLeaf),
    // which cannot collide with an inner node (leaves are hashed twice over 128 bytes).
    expect(await verify(c, id, 1n, tree.root, [])).toBe(true);

    // A wrong version: version 2 holds a different set (the first row withdrawn).
    const v2 = merkleTree(leaves.slice(1));
    await commit(c, alice, id, 2n, v2.root, BigInt(leaves.length - 1));
    expect(await verify(c, id, 2n, first, firstProof)).toBe(false);
    expect(await verify(c, id, 1n, first, firstProof)).toBe(true);
    expect(await verify(c, id, 2n, second, v2.proof(second))).toBe(true);
    expect(await verify(c, id, 1n, second, v2.proof(second))).toBe(false);
    // A wrong DataNet: the same root committed elsewhere is a separate version of a separate DataNet.
    const other = await create(c, alice);
    await commit(c, alice, other, 1n, hash('something else'), 1n);
    expect(await verify(c, other, 1n, first, firstProof)).toBe(false);
  });

  it('verifies a one-contribution version with an empty proof', async () => {
    const c = chain();
    const [alice] = users(c, 1) as [HDAccount];
    const id = await create(c, alice);
    const leaf = contributionId(id, alice.address, hash('only row'), LICENSE);
    const tree = merkleTree([leaf]);
    expect(tree.root).toBe(leaf);
    await commit(c, alice, id, 1n, tree.root, 1n);
    expect(tree.proof(leaf)).toEqual([]);
    expect(await verify(c, id, 1n, leaf, [])).toBe(true);
    expect(await verify(c, id, 1n, hash('other'), [])).toBe(false);
  });

  it('contributionLeaf on chain equals contributionId in TypeScript for random inputs', async () => {
    const c = chain();
    const reader = createPublicClient({
      chain: c.clients.chain,
      transport: http(c.clients.rpcUrl, { batch: true }),
    }) as PublicClient;
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => toHex(b));
    const input = fc.record({
      dataNetId: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 1_000n })),
      contributor: bytes(20).map((h) => getAddress(h)),
      contentHash: bytes(32),
      licenseId: fc.oneof(bytes(32), fc.constant(zeroHash)),
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ dataNetId, contributor, contentHash, licenseId }) => {
        const onChain = await reader.readContract({
          ...registryOf(c),
          functionName: 'contributionLeaf',
          args: [dataNetId, contributor, contentHash, licenseId],
        });
        expect(onChain).toBe(contributionId(dataNetId, contributor, contentHash, licenseId));
      }),
      { numRuns: 50 },
    );
  });
});

describe('DataNetRegistry: bonds', () => {
  it('deposits, requests, and withdraws after exactly 3 days, moving OPEN both ways', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const reg = registryOf(c);
    const id = await create(c, alice, { bondAmount: 50n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 100n * OPEN);

    const d1 = await deposit(c, bob, id, 30n * OPEN);
    const [e1] = parseEventLogs({ abi, logs: d1.logs, eventName: 'BondDeposited' });
    expect(e1?.args).toEqual({ dataNetId: id, contributor: bob.address, amount: 30n * OPEN, bondAfter: 30n * OPEN });
    const d2 = await deposit(c, bob, id, 20n * OPEN);
    const [e2] = parseEventLogs({ abi, logs: d2.logs, eventName: 'BondDeposited' });
    expect(e2?.args).toEqual({ dataNetId: id, contributor: bob.address, amount: 20n * OPEN, bondAfter: 50n * OPEN });
    expect(await bondOf(c, id, bob.address)).toBe(50n * OPEN);
    expect(await balanceOf(c, bob.address)).toBe(50n * OPEN);
    expect(await balanceOf(c, reg.address)).toBe(50n * OPEN);
    expect(await withdrawableAt(c, id, bob.address)).toBe(0n);

    // No request yet: locked with unlock time 0.
    const locked = await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, 0n]);
    expect(locked.message).toBe(`DataNetRegistry.withdrawBond reverted with BondLocked("1", "${bob.address}", "0")`);

    const r = await requestWithdrawal(c, bob, id);
    const unlockAt = (await blockTime(c, r)) + DELAY;
    const [req] = parseEventLogs({ abi, logs: r.logs, eventName: 'BondWithdrawalRequested' });
    expect(req?.args).toEqual({ dataNetId: id, contributor: bob.address, withdrawableAt: unlockAt });
    expect(await withdrawableAt(c, id, bob.address)).toBe(unlockAt);

    await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, unlockAt]);
    await warpTo(c, unlockAt - 1n);
    await expectRevert(withdraw(c, bob, id, 50n * OPEN), 'BondLocked', [id, bob.address, unlockAt]);
    await warpTo(c, unlockAt);
    await expectRevert(withdraw(c, bob, id, 50n * OPEN + 1n), 'InsufficientBond', [50n * OPEN + 1n, 50n * OPEN]);
    await expectRevert(withdraw(c, bob, id, 0n), 'ZeroAmount', []);

    const w1 = await withdraw(c, bob, id, 20n * OPEN);
    const [ev1] = parseEventLogs({ abi, logs: w1.logs, eventName: 'BondWithdrawn' });
    expect(ev1?.args).toEqual({ dataNetId: id, contributor: bob.address, amount: 20n * OPEN });
    expect(await bondOf(c, id, bob.address)).toBe(30n * OPEN);
    expect(await balanceOf(c, bob.address)).toBe(70n * OPEN);
    expect(await balanceOf(c, reg.address)).toBe(30n * OPEN);
    // A withdrawal consumes the request: the rest needs a new request and the full delay again.
    expect(await withdrawableAt(c, id, bob.address)).toBe(0n);
    await expectRevert(withdraw(c, bob, id, 30n * OPEN), 'BondLocked', [id, bob.address, 0n]);
    const r2 = await requestWithdrawal(c, bob, id);
    const unlock2 = (await blockTime(c, r2)) + DELAY;
    await warpTo(c, unlock2 - 1n);
    await expectRevert(withdraw(c, bob, id, 30n * OPEN), 'BondLocked', [id, bob.address, unlock2]);
    await warpTo(c, unlock2);
    await withdraw(c, bob, id, 30n * OPEN);
    expect(await bondOf(c, id, bob.address)).toBe(0n);
    expect(await balanceOf(c, bob.address)).toBe(100n * OPEN);
    expect(await balanceOf(c, reg.address)).toBe(0n);
    await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, 0n]);
    await expectRevert(requestWithdrawal(c, bob, id), 'NoBond', [id, bob.address]);
  });

  it('cancels a pending (or matured) withdrawal request on a new deposit', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 100n * OPEN);
    await deposit(c, bob, id, 10n * OPEN);
    const r = await requestWithdrawal(c, bob, id);
    const unlockAt = (await blockTime(c, r)) + DELAY;
    await warpTo(c, unlockAt - DAY);
    const topUp = await deposit(c, bob, id, 1n);
    const [cancelled, ...more] = parseEventLogs({ abi, logs: topUp.logs, eventName: 'BondWithdrawalCancelled' });
    expect(more).toHaveLength(0);
    expect(cancelled?.args).toEqual({ dataNetId: id, contributor: bob.address, withdrawableAt: unlockAt });
    expect(await withdrawableAt(c, id, bob.address)).toBe(0n);
    // With no request pending, a deposit cancels nothing.
    const again = await deposit(c, bob, id, 1n);
    expect(parseEventLogs({ abi, logs: again.logs }).map((e) => e.eventName)).toEqual(['BondDeposited']);
    await warpTo(c, unlockAt + DAY);
    await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, 0n]);

    // A fresh request restarts the full delay; a deposit after it matured cancels it too.
    const r2 = await requestWithdrawal(c, bob, id);
    const unlock2 = (await blockTime(c, r2)) + DELAY;
    await warpTo(c, unlock2 - 1n);
    await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, unlock2]);
    await warpTo(c, unlock2 + 10n);
    await deposit(c, bob, id, 1n);
    await expectRevert(withdraw(c, bob, id, 1n), 'BondLocked', [id, bob.address, 0n]);
    // A repeated request moves the unlock time forward.
    const r3 = await requestWithdrawal(c, bob, id);
    await advanceBy(c, DAY);
    const r4 = await requestWithdrawal(c, bob, id);
    expect(await withdrawableAt(c, id, bob.address)).toBe((await blockTime(c, r4)) + DELAY);
    expect(await blockTime(c, r4)).toBeGreaterThan(await blockTime(c, r3));
    await warpTo(c, (await blockTime(c, r4)) + DELAY);
    await withdraw(c, bob, id, 10n * OPEN + 3n);
    expect(await balanceOf(c, bob.address)).toBe(100n * OPEN);
  });

  it('refuses a zero deposit, a deposit without allowance, and requests or forfeits without a bond', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const reg = registryOf(c);
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 10n * OPEN, false);
    const zero = await expectRevert(deposit(c, bob, id, 0n), 'ZeroAmount', []);
    expect(zero.message).toBe('DataNetRegistry.depositBond reverted with ZeroAmount()');
    await expectRevert(deposit(c, bob, id, OPEN), 'ERC20InsufficientAllowance', [reg.address, 0n, OPEN]);
    await send(c, bob, { ...c.token, functionName: 'approve', args: [reg.address, maxUint256] });
    await expectRevert(deposit(c, bob, id, 10n * OPEN + 1n), 'ERC20InsufficientBalance', [
      bob.address,
      10n * OPEN,
      10n * OPEN + 1n,
    ]);
    const noBond = await expectRevert(requestWithdrawal(c, bob, id), 'NoBond', [id, bob.address]);
    expect(noBond.message).toBe(`DataNetRegistry.requestBondWithdrawal reverted with NoBond("1", "${bob.address}")`);
    await expectRevert(forfeit(c, alice, id, bob, hash('c'), hash('r')), 'NoBond', [id, bob.address]);
    await expectRevert(withdraw(c, bob, id, 0n), 'ZeroAmount', []);
    expect(await bondOf(c, id, bob.address)).toBe(0n);
    expect(await balanceOf(c, reg.address)).toBe(0n);
  });

  it('keeps bonds per DataNet', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const a = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 10_000 });
    const b = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 10_000 });
    await fund(c, bob, 10n * OPEN);
    await deposit(c, bob, a, 10n * OPEN);
    expect(await bondOf(c, b, bob.address)).toBe(0n);
    await expectRevert(forfeit(c, alice, b, bob, hash('c'), hash('r')), 'NoBond', [b, bob.address]);
    await expectRevert(requestWithdrawal(c, bob, b), 'NoBond', [b, bob.address]);
    const r = await requestWithdrawal(c, bob, a);
    await warpTo(c, (await blockTime(c, r)) + DELAY);
    await expectRevert(withdraw(c, bob, b, 1n), 'BondLocked', [b, bob.address, 0n]);
    await withdraw(c, bob, a, 10n * OPEN);
  });

  it('forfeits min(bondAmount × bps / 10,000, bond) to the treasury until the bond is gone, then NoBond', async () => {
    const c = chain();
    const [alice, bob, carol, stranger] = users(c, 4) as [HDAccount, HDAccount, HDAccount, HDAccount];
    const reg = registryOf(c);
    const treasury = getAddress(`0x${'7a'.repeat(20)}`);
    // 3,333 bps of 100 OPEN = 33.33 OPEN per forfeit.
    const id = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 3_333, treasury });
    await addCurator(c, alice, id, carol.address);
    await fund(c, bob, 100n * OPEN);
    await deposit(c, bob, id, 100n * OPEN);
    const due = (100n * OPEN * 3_333n) / 10_000n;

    await expectRevert(forfeit(c, stranger, id, bob, hash('c'), hash('r')), 'NotCurator', [id, stranger.address]);
    // The contributor cannot forfeit to itself either.
    await expectRevert(forfeit(c, bob, id, bob, hash('c'), hash('r')), 'NotCurator', [id, bob.address]);

    const expectedAmounts = [due, due, due, 100n * OPEN - 3n * due];
    let sent = 0n;
    for (const [i, amount] of expectedAmounts.entries()) {
      const by = i % 2 === 0 ? alice : carol;
      const contentHash = hash(`spam row ${i}`);
      const reasonHash = hash(`reason ${i}`);
      const signed = await signContribution(c, bob, id, contentHash);
      const { result } = await c.clients.public.simulateContract({
        ...reg,
        functionName: 'forfeitBond',
        args: [id, bob.address, contentHash, signed.nonce, signed.deadline, signed.signature, reasonHash],
        account: by,
      });
      expect(result).toBe(amount);
      const receipt = await forfeitSigned(c, by, id, bob.address, signed, reasonHash);
      const [event, ...rest] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondForfeited' });
      expect(rest).toHaveLength(0);
      expect(event?.args).toEqual({
        dataNetId: id,
        contributor: bob.address,
        contentHash,
        amount,
        reasonHash,
        curator: by.address,
      });
      sent += amount;
      expect(await balanceOf(c, treasury)).toBe(sent);
      expect(await bondOf(c, id, bob.address)).toBe(100n * OPEN - sent);
      expect(await balanceOf(c, reg.address)).toBe(100n * OPEN - sent);
    }
    expect(sent).toBe(100n * OPEN);
    const err = await expectRevert(forfeit(c, alice, id, bob, hash('c'), hash('r')), 'NoBond', [id, bob.address]);
    expect(err.message).toBe(`DataNetRegistry.forfeitBond reverted with NoBond("1", "${bob.address}")`);
    expect(await balanceOf(c, bob.address)).toBe(0n);
  });

  it('forfeits during the withdrawal delay and after it matured, cancelling the request each time', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 10_000 });
    await fund(c, bob, 25n * OPEN);
    await deposit(c, bob, id, 25n * OPEN);
    const r = await requestWithdrawal(c, bob, id);
    const unlockAt = (await blockTime(c, r)) + DELAY;
    await warpTo(c, unlockAt - 1n);
    const f1 = await forfeit(c, alice, id, bob, hash('a'), hash('r'));
    // A forfeit cancels the pending request, and says so.
    const [cancelled, ...more] = parseEventLogs({ abi, logs: f1.logs, eventName: 'BondWithdrawalCancelled' });
    expect(more).toHaveLength(0);
    expect(cancelled?.args).toEqual({ dataNetId: id, contributor: bob.address, withdrawableAt: unlockAt });
    expect(await withdrawableAt(c, id, bob.address)).toBe(0n);
    const r2 = await requestWithdrawal(c, bob, id);
    const unlock2 = (await blockTime(c, r2)) + DELAY;
    await warpTo(c, unlock2 + DAY);
    await forfeit(c, alice, id, bob, hash('b'), hash('r'));
    expect(await bondOf(c, id, bob.address)).toBe(5n * OPEN);
    expect(await withdrawableAt(c, id, bob.address)).toBe(0n);
    await expectRevert(withdraw(c, bob, id, 5n * OPEN), 'BondLocked', [id, bob.address, 0n]);
    const r3 = await requestWithdrawal(c, bob, id);
    await warpTo(c, (await blockTime(c, r3)) + DELAY);
    await expectRevert(withdraw(c, bob, id, 6n * OPEN), 'InsufficientBond', [6n * OPEN, 5n * OPEN]);
    await withdraw(c, bob, id, 5n * OPEN);
    expect(await balanceOf(c, TREASURY)).toBe(20n * OPEN);
    expect(await balanceOf(c, bob.address)).toBe(5n * OPEN);
  });

  it('caps a forfeit at the bond when the bond is below bondAmount', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 5_000 });
    await fund(c, bob, 10n * OPEN);
    await deposit(c, bob, id, 3n * OPEN);
    const receipt = await forfeit(c, alice, id, bob, hash('c'), hash('r'));
    const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'BondForfeited' });
    expect(event?.args.amount).toBe(3n * OPEN);
    expect(await bondOf(c, id, bob.address)).toBe(0n);
    expect(await balanceOf(c, TREASURY)).toBe(3n * OPEN);
  });

  it('refuses a forfeit that rounds to zero (ZeroAmount), leaving the bond alone', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    // 1 wei × 5,000 / 10,000 = 0; 0 bps; no bond amount at all.
    const tiny = await create(c, alice, { bondAmount: 1n, forfeitBps: 5_000 });
    const noBps = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 0 });
    const noBond = await create(c, alice, { bondAmount: 0n, forfeitBps: 10_000 });
    const almost = await create(c, alice, { bondAmount: 2n, forfeitBps: 5_000 });
    await fund(c, bob, 10n * OPEN);
    for (const id of [tiny, noBps, noBond, almost]) await deposit(c, bob, id, OPEN);
    for (const id of [tiny, noBps, noBond]) {
      const err = await expectRevert(forfeit(c, alice, id, bob, hash('c'), hash('r')), 'ZeroAmount', []);
      expect(err.message).toBe('DataNetRegistry.forfeitBond reverted with ZeroAmount()');
      expect(await bondOf(c, id, bob.address)).toBe(OPEN);
    }
    // 2 wei × 5,000 / 10,000 = 1 wei.
    await forfeit(c, alice, almost, bob, hash('c'), hash('r'));
    expect(await bondOf(c, almost, bob.address)).toBe(OPEN - 1n);
    expect(await balanceOf(c, TREASURY)).toBe(1n);
  });
});

describe('DataNetRegistry: issue 10 attack 6, bond forfeiture abuse', () => {
  it('attack: forfeiting the same rejected contribution twice is refused', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 100n * OPEN);
    await deposit(c, bob, id, 100n * OPEN);
    const spam = await signContribution(c, bob, id, hash('spam row'));
    const first = await forfeitSigned(c, alice, id, bob.address, spam, hash('spam'));
    // No withdrawal was pending: nothing to cancel.
    expect(parseEventLogs({ abi, logs: first.logs }).map((e) => e.eventName)).toEqual(['BondForfeited']);
    expect(await bondOf(c, id, bob.address)).toBe(90n * OPEN);
    expect(await isForfeited(c, id, bob.address, spam.contentHash)).toBe(true);
    // The owner (who chose the treasury) replays the same forfeit, with the same or another reason.
    const err = await expectRevert(forfeitSigned(c, alice, id, bob.address, spam, hash('spam')), 'AlreadyForfeited', [
      id,
      bob.address,
      spam.contentHash,
    ]);
    expect(err.message).toBe(
      `DataNetRegistry.forfeitBond reverted with AlreadyForfeited("1", "${bob.address}", "${spam.contentHash}")`,
    );
    await expectRevert(forfeitSigned(c, alice, id, bob.address, spam, hash('other reason')), 'AlreadyForfeited');
    expect(await bondOf(c, id, bob.address)).toBe(90n * OPEN);
    expect(await balanceOf(c, TREASURY)).toBe(10n * OPEN);
  });

  it('attack: forfeiting for an invented contribution the contributor never signed is refused', async () => {
    const c = chain();
    const [alice, bob, mallory] = users(c, 3) as [HDAccount, HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 100n * OPEN);
    await deposit(c, bob, id, 100n * OPEN);
    const real = await signContribution(c, bob, id, hash('real row'));
    const invented = hash('never contributed');
    // The owner signs the invented contribution itself.
    const byOwner = await signContribution(c, alice, id, invented);
    const err = await expectRevert(
      forfeitSigned(c, alice, id, bob.address, byOwner, hash('spam')),
      'InvalidContributionSignature',
      [id, bob.address, invented],
    );
    expect(err.message).toBe(
      `DataNetRegistry.forfeitBond reverted with InvalidContributionSignature("1", "${bob.address}", "${invented}")`,
    );
    // Bob's real signature, pointed at another content hash.
    await expectRevert(
      forfeitSigned(c, alice, id, bob.address, { ...real, contentHash: invented }, hash('spam')),
      'InvalidContributionSignature',
      [id, bob.address, invented],
    );
    expect(await bondOf(c, id, bob.address)).toBe(100n * OPEN);
    expect(await balanceOf(c, TREASURY)).toBe(0n);
    // Nor can a third party's signature stand in for Bob's.
    await expectRevert(
      forfeitSigned(c, alice, id, bob.address, await signContribution(c, mallory, id, invented), hash('spam')),
      'InvalidContributionSignature',
      [id, bob.address, invented],
    );
  });

  it('binds the signature to chain, registry, DataNet, content and license; refuses malformed and malleated ones', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 1_000 });
    const other = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 1_000 });
    await fund(c, bob, 200n * OPEN);
    await deposit(c, bob, id, 100n * OPEN);
    await deposit(c, bob, other, 100n * OPEN);
    const content = hash('row');
    const refused = (s: SignedContribution, contributor: Address = bob.address, dn = id) =>
      expectRevert(forfeitSigned(c, alice, dn, contributor, s, hash('spam')), 'InvalidContributionSignature', [
        dn,
        contributor,
        s.contentHash,
      ]);
    await refused(await signContribution(c, bob, other, content)); // signed for another DataNet
    await refused(await signContribution(c, bob, id, content, { chainId: c.clients.chain.id + 1 }));
    await refused(await signContribution(c, bob, id, content, { registry: TREASURY }));
    await refused(await signContribution(c, bob, id, content, { licenseId: hash('MIT') }));
    const good = await signContribution(c, bob, id, content);
    await refused({ ...good, nonce: good.nonce + 1n });
    await refused({ ...good, deadline: good.deadline + 1n });
    await refused(good, zeroAddress);
    await refused(good, alice.address);
    await refused({ ...good, signature: '0x' });
    await refused({ ...good, signature: good.signature.slice(0, 130) as Hex }); // 64 bytes
    await refused({ ...good, signature: `${good.signature}00` }); // 66 bytes
    // The malleated twin (s → n - s, v flipped) recovers to Bob too, but is not canonical: refused, as off chain.
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const r = good.signature.slice(2, 66);
    const sHigh = (n - BigInt(`0x${good.signature.slice(66, 130)}`)).toString(16).padStart(64, '0');
    const vFlipped = Number.parseInt(good.signature.slice(130), 16) === 27 ? '1c' : '1b';
    await refused({ ...good, signature: `0x${r}${sHigh}${vFlipped}` });
    expect(await bondOf(c, id, bob.address)).toBe(100n * OPEN);

    // v as 0/1 (which the TypeScript verifier accepts too) is fine; so is a deadline long past: review comes later.
    const v = Number.parseInt(good.signature.slice(130), 16);
    const low = { ...good, signature: `${good.signature.slice(0, 130)}0${v - 27}` as Hex };
    const expired = await signContribution(c, bob, id, hash('old row'), { deadline: 1n });
    await forfeitSigned(c, alice, id, bob.address, low, hash('spam'));
    await forfeitSigned(c, alice, id, bob.address, expired, hash('spam'));
    expect(await bondOf(c, id, bob.address)).toBe(80n * OPEN);
    // The same content in another DataNet is another contribution, with its own signature and forfeit.
    await forfeitSigned(c, alice, other, bob.address, await signContribution(c, bob, other, content), hash('spam'));
    expect(await bondOf(c, other, bob.address)).toBe(90n * OPEN);
    expect(await isForfeited(c, other, bob.address, content)).toBe(true);
    expect(await isForfeited(c, id, bob.address, hash('never'))).toBe(false);
  });

  it('forfeits once per contribution, whatever nonce it was signed with; hashContribution is the EIP-712 digest', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 100n * OPEN, forfeitBps: 10_000 });
    await fund(c, bob, 100n * OPEN);
    await deposit(c, bob, id, 100n * OPEN);
    const content = hash('row');
    const a = await signContribution(c, bob, id, content, { nonce: 1n });
    const b = await signContribution(c, bob, id, content, { nonce: 2n });
    await forfeitSigned(c, alice, id, bob.address, a, hash('spam'));
    await expectRevert(forfeitSigned(c, alice, id, bob.address, b, hash('spam')), 'AlreadyForfeited', [
      id,
      bob.address,
      content,
    ]);
    // The check comes before the bond's: a spent contribution says so even with the bond gone.
    expect(await bondOf(c, id, bob.address)).toBe(0n);
    expect(await balanceOf(c, TREASURY)).toBe(100n * OPEN);
    const digest = await c.clients.public.readContract({
      ...registryOf(c),
      functionName: 'hashContribution',
      args: [id, content, LICENSE, 7n, 9n],
    });
    expect(digest).toBe(
      hashTypedData({
        domain: { ...dataNetDomain, chainId: c.clients.chain.id, verifyingContract: registryOf(c).address },
        types: dataNetTypes,
        primaryType: 'Contribution',
        message: { dataNetId: id, contentHash: content, licenseId: LICENSE, nonce: 7n, deadline: 9n },
      }),
    );
  });

  it('attack: a withdrawal request that matured once lets the bond leave later without the delay', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 10_000 });
    await fund(c, bob, 20n * OPEN);
    await deposit(c, bob, id, 20n * OPEN);
    // The spammer asks once, waits out the delay once, and takes 1 wei to prove the request works...
    const r = await requestWithdrawal(c, bob, id);
    await warpTo(c, (await blockTime(c, r)) + DELAY);
    await withdraw(c, bob, id, 1n);
    // ...then, weeks later, pulls the rest out at once, just ahead of a curator's forfeit.
    await advanceBy(c, 30n * DAY);
    await expectRevert(withdraw(c, bob, id, 20n * OPEN - 1n), 'BondLocked', [id, bob.address, 0n]);
    expect(await bondOf(c, id, bob.address)).toBe(20n * OPEN - 1n);
  });

  it('attack: a forfeit during the withdrawal delay does not let the rest of the bond leave on the old request', async () => {
    const c = chain();
    const [alice, bob] = users(c, 2) as [HDAccount, HDAccount];
    const id = await create(c, alice, { bondAmount: 10n * OPEN, forfeitBps: 5_000 });
    await fund(c, bob, 10n * OPEN);
    await deposit(c, bob, id, 10n * OPEN);
    const spam = await signContribution(c, bob, id, hash('spam row'));
    const r = await requestWithdrawal(c, bob, id);
    const unlockAt = (await blockTime(c, r)) + DELAY;
    await warpTo(c, unlockAt - 1n);
    await forfeitSigned(c, alice, id, bob.address, spam, hash('spam'));
    await warpTo(c, unlockAt);
    await expectRevert(withdraw(c, bob, id, 5n * OPEN), 'BondLocked', [id, bob.address, 0n]);
    expect(await bondOf(c, id, bob.address)).toBe(5n * OPEN);
  });
});
