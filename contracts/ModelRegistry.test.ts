/**
 * ModelRegistry against a real anvil with the protocol deployed: registration (unique lowercase ASCII names of 1-64
 * characters; each adapter hash belongs to the first model that published it), lineage checked against
 * DataNetRegistry (root match, base models without a DataNet, the DataNet registry's own errors bubbling up),
 * versions, prices, activation and ownership, every custom error with its arguments, and a model-based property
 * test of random register / publish / setPrices sequences by three owners sharing a small pool of adapters.
 */
import fc from 'fast-check';
import {
  type Address,
  createPublicClient,
  type HDAccount,
  type Hex,
  http,
  keccak256,
  maxUint128,
  type PublicClient,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
  zeroAddress,
  zeroHash,
} from 'viem';
import { describe, expect, it } from 'vitest';
import { contractError, DataNetRegistryArtifact, ModelRegistryArtifact, sendTx } from '../src/chain/index.js';
import { isValidModelName } from '../src/factory/index.js';
import { expectRevert, type TestChain, useTestChain } from '../test/fixtures/chain.js';

const chain = useTestChain();

const abi = ModelRegistryArtifact.abi;
const models = (c: TestChain) =>
  ({ address: c.deployment.contracts.ModelRegistry, abi, contract: 'ModelRegistry' }) as const;
const dataNets = (c: TestChain) =>
  ({
    address: c.deployment.contracts.DataNetRegistry,
    abi: DataNetRegistryArtifact.abi,
    contract: 'DataNetRegistry',
  }) as const;
const h = (text: string): Hex => keccak256(stringToHex(text));
const BASE = h('base-model.gguf');

interface VersionInput {
  adapterHash: Hex;
  dataNetId: bigint;
  dataNetVersion: bigint;
  dataNetRoot: Hex;
  configHash: Hex;
  receiptCID: string;
}

/** Lineage of a model trained without a DataNet (a base model, or an adapter from elsewhere). */
const noDataNet = (tag: string): VersionInput => ({
  adapterHash: h(`adapter:${tag}`),
  dataNetId: 0n,
  dataNetVersion: 0n,
  dataNetRoot: zeroHash,
  configHash: h(`config:${tag}`),
  receiptCID: `bafyreceipt${tag}`,
});
/** Lineage pointing at version `version` (root `root`) of DataNet `dataNetId`. */
const onDataNet = (tag: string, dataNetId: bigint, version: bigint, root: Hex): VersionInput => ({
  ...noDataNet(tag),
  dataNetId,
  dataNetVersion: version,
  dataNetRoot: root,
});

// --------------------------------------------------------------------------------------------------- writes

const register = (
  c: TestChain,
  who: HDAccount,
  name: string,
  v: VersionInput,
  priceIn = 10n,
  priceOut = 20n,
  base: Hex = BASE,
) => sendTx(c.clients, who, { ...models(c), functionName: 'registerModel', args: [name, base, v, priceIn, priceOut] });
const publish = (c: TestChain, who: HDAccount, modelId: bigint, v: VersionInput) =>
  sendTx(c.clients, who, { ...models(c), functionName: 'publishVersion', args: [modelId, v] });
const setPrices = (c: TestChain, who: HDAccount, modelId: bigint, priceIn: bigint, priceOut: bigint) =>
  sendTx(c.clients, who, { ...models(c), functionName: 'setPrices', args: [modelId, priceIn, priceOut] });
const setActive = (c: TestChain, who: HDAccount, modelId: bigint, active: boolean) =>
  sendTx(c.clients, who, { ...models(c), functionName: 'setActive', args: [modelId, active] });
const transfer = (c: TestChain, who: HDAccount, modelId: bigint, to: Address) =>
  sendTx(c.clients, who, { ...models(c), functionName: 'transferModelOwnership', args: [modelId, to] });

/** Creates a DataNet owned by `owner` and commits one version per root; returns its id. */
async function dataNetWith(c: TestChain, owner: HDAccount, roots: Hex[]): Promise<bigint> {
  const receipt = await sendTx(c.clients, owner, {
    ...dataNets(c),
    functionName: 'createDataNet',
    args: ['bafymetadata', h('schema'), h('CC-BY-4.0'), 0n, 0, owner.address],
  });
  const [created] = parseEventLogs({
    abi: DataNetRegistryArtifact.abi,
    logs: receipt.logs,
    eventName: 'DataNetCreated',
  });
  if (!created) throw new Error('DataNetCreated missing');
  const id = created.args.dataNetId;
  for (const [i, root] of roots.entries())
    await sendTx(c.clients, owner, {
      ...dataNets(c),
      functionName: 'commitVersion',
      args: [id, BigInt(i + 1), root, 3n, `bafymanifest${i + 1}`],
    });
  return id;
}

// ---------------------------------------------------------------------------------------------------- reads

/** A view call whose revert surfaces as CONTRACT_REVERTED, like a transaction's would. */
const view = <T>(p: Promise<T>, fn: string): Promise<T> =>
  p.catch((e: unknown) => {
    throw contractError(e, `ModelRegistry.${fn}`, abi);
  });
const getModel = (c: TestChain, id: bigint) =>
  view(c.clients.public.readContract({ ...models(c), functionName: 'getModel', args: [id] }), 'getModel');
const getVersion = (c: TestChain, id: bigint, version: bigint) =>
  view(c.clients.public.readContract({ ...models(c), functionName: 'getVersion', args: [id, version] }), 'getVersion');
const latestVersion = (c: TestChain, id: bigint) =>
  view(c.clients.public.readContract({ ...models(c), functionName: 'latestVersion', args: [id] }), 'latestVersion');
const idByName = (c: TestChain, name: string) =>
  view(c.clients.public.readContract({ ...models(c), functionName: 'modelIdByName', args: [name] }), 'modelIdByName');
const modelCount = (c: TestChain) => c.clients.public.readContract({ ...models(c), functionName: 'modelCount' });
const blockTime = async (c: TestChain, receipt: TransactionReceipt) =>
  (await c.clients.public.getBlock({ blockNumber: receipt.blockNumber })).timestamp;

const events = <
  N extends 'ModelRegistered' | 'AdapterClaimed' | 'ModelVersionPublished' | 'PricesUpdated' | 'ActiveChanged',
>(
  receipt: TransactionReceipt,
  eventName: N,
) => parseEventLogs({ abi, logs: receipt.logs, eventName });
/** Every ModelRegistry event name in the receipt, in order. */
const eventNames = (receipt: TransactionReceipt) => parseEventLogs({ abi, logs: receipt.logs }).map((e) => e.eventName);

const rootA = h('root:v1');
const rootB = h('root:v2');

describe('ModelRegistry: deployment', () => {
  it('reads lineage from the deployed DataNetRegistry and starts empty', async () => {
    const c = chain();
    expect(await c.clients.public.readContract({ ...models(c), functionName: 'dataNets' })).toBe(
      c.deployment.contracts.DataNetRegistry,
    );
    expect(await modelCount(c)).toBe(0n);
    await expectRevert(getModel(c, 1n), 'UnknownModel', [1n]);
  });
});

describe('ModelRegistry: registerModel', () => {
  it('registers a model trained on a committed DataNet version: ids from 1, stored fields, both events', async () => {
    const c = chain();
    const [curator, alice, bob] = c.users as [HDAccount, HDAccount, HDAccount];
    const dn = await dataNetWith(c, curator, [rootA, rootB]);
    const v = onDataNet('planets-1', dn, 2n, rootB);
    const receipt = await register(c, alice, 'planets', v, 1_000n, 3_000n);

    expect(eventNames(receipt)).toEqual(['ModelRegistered', 'AdapterClaimed', 'ModelVersionPublished']);
    expect(events(receipt, 'AdapterClaimed')[0]?.args).toEqual({ adapterHash: v.adapterHash, modelId: 1n });
    const [registered] = events(receipt, 'ModelRegistered');
    expect(registered?.address).toBe(c.deployment.contracts.ModelRegistry.toLowerCase());
    expect(registered?.args).toEqual({
      modelId: 1n,
      owner: alice.address,
      name: 'planets',
      baseModelHash: BASE,
      priceInPer1k: 1_000n,
      priceOutPer1k: 3_000n,
    });
    const [published] = events(receipt, 'ModelVersionPublished');
    expect(published?.args).toEqual({ modelId: 1n, version: 1n, ...v });

    expect(await modelCount(c)).toBe(1n);
    expect(await getModel(c, 1n)).toEqual({
      owner: alice.address,
      active: true,
      versionCount: 1n,
      priceInPer1k: 1_000n,
      priceOutPer1k: 3_000n,
      baseModelHash: BASE,
      name: 'planets',
    });
    const first = { ...v, publishedAt: await blockTime(c, receipt) };
    expect(await getVersion(c, 1n, 1n)).toEqual(first);
    expect(await latestVersion(c, 1n)).toEqual([1n, first]);
    expect(await idByName(c, 'planets')).toBe(1n);

    const second = await register(c, bob, 'rivers', onDataNet('rivers-1', dn, 1n, rootA), 0n, 0n);
    expect(events(second, 'ModelRegistered')[0]?.args.modelId).toBe(2n);
    expect(await modelCount(c)).toBe(2n);
    expect((await getModel(c, 2n)).owner).toBe(bob.address);
    expect(await idByName(c, 'rivers')).toBe(2n);
    expect((await getVersion(c, 2n, 1n)).dataNetRoot).toBe(rootA);
  });

  it('registers a base model trained without a DataNet: dataNetId 0, version 0, zero root', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    const v = noDataNet('base');
    const receipt = await register(c, alice, 'tiny-base', v, 5n, 7n, h('tiny.gguf'));
    expect(events(receipt, 'ModelVersionPublished')[0]?.args).toEqual({
      modelId: 1n,
      version: 1n,
      ...v,
      dataNetId: 0n,
      dataNetVersion: 0n,
      dataNetRoot: zeroHash,
    });
    const stored = await getVersion(c, 1n, 1n);
    expect(stored).toEqual({ ...v, publishedAt: await blockTime(c, receipt) });
    expect(stored.dataNetId).toBe(0n);
    expect(stored.dataNetRoot).toBe(zeroHash);
    expect((await getModel(c, 1n)).baseModelHash).toBe(h('tiny.gguf'));
  });

  it('refuses a taken name, whoever asks, naming the holder', async () => {
    const c = chain();
    const [alice, bob] = c.users as [HDAccount, HDAccount];
    await register(c, alice, 'planets', noDataNet('a'));
    const err = await expectRevert(register(c, bob, 'planets', noDataNet('b')), 'NameTaken', ['planets', 1n]);
    expect(err.message).toBe('ModelRegistry.registerModel reverted with NameTaken("planets", "1")');
    await expectRevert(register(c, alice, 'planets', noDataNet('c')), 'NameTaken', ['planets', 1n]);
    await register(c, bob, 'moons', noDataNet('d'));
    await expectRevert(register(c, alice, 'moons', noDataNet('e')), 'NameTaken', ['moons', 2n]);
    expect(await modelCount(c)).toBe(2n);
  });

  it('accepts 1-64 characters of [a-z0-9._-] starting with a letter or digit, and refuses others (InvalidName)', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    const err = await expectRevert(register(c, alice, '', noDataNet('empty')), 'InvalidName', ['']);
    expect(err.message).toBe('ModelRegistry.registerModel reverted with InvalidName("")');
    // Too long; a symbol first; and every byte just outside the allowed ranges, alone and inside a name.
    const bad = ['x'.repeat(65), '-x', '.x', '_x', 'a b', 'a\n', '\u00e9', '\u{1F600}', 'a\u0000'];
    for (const ch of ['/', ':', '@', 'A', 'Z', '[', '^', '`', '{', ',', '+', '~', '\u007f']) bad.push(ch, `a${ch}b`);
    for (const [i, name] of bad.entries())
      await expectRevert(register(c, alice, name, noDataNet(`bad ${i}`)), 'InvalidName', [name]);
    expect(await modelCount(c)).toBe(0n);

    const good = ['x', 'x'.repeat(64), '0', '9-lives', 'a.b_c-d', 'z.', 'planet-facts', 'tributary-base-4m'];
    for (const [i, name] of good.entries()) await register(c, alice, name, noDataNet(`good ${i}`));
    expect(await modelCount(c)).toBe(BigInt(good.length));
    expect(await idByName(c, 'x'.repeat(64))).toBe(2n);
    // Lookups are exact: a spelling that cannot be registered is simply unknown.
    await expectRevert(idByName(c, 'X'), 'UnknownModelName', ['X']);
    await expectRevert(idByName(c, ''), 'UnknownModelName', ['']);
  });

  it('isValidName on chain agrees with the TypeScript rule (isValidModelName) on random strings', async () => {
    const c = chain();
    const reader = createPublicClient({
      chain: c.clients.chain,
      transport: http(c.clients.rpcUrl, { batch: true }),
    }) as PublicClient;
    const near = fc.constantFrom(
      'a',
      'z',
      '0',
      '9',
      '-',
      '.',
      '_',
      'A',
      'Z',
      '/',
      ':',
      '`',
      '{',
      ' ',
      '\u0430',
      '\u00e9',
    );
    const name = fc.oneof(
      fc.string({ unit: near, minLength: 0, maxLength: 66 }),
      fc.string({ unit: 'binary', maxLength: 70 }),
      fc.constantFrom('x'.repeat(64), 'x'.repeat(65), '', 'a'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(name, { minLength: 20, maxLength: 20 }), async (names) => {
        const onChain = await Promise.all(
          names.map((n) => reader.readContract({ ...models(c), functionName: 'isValidName', args: [n] })),
        );
        expect(onChain).toEqual(names.map(isValidModelName));
      }),
      { numRuns: 15 },
    );
  });

  it('stores prices as uint128: zero and 2^128-1 both round-trip', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    const receipt = await register(c, alice, 'max', noDataNet('max'), maxUint128, 0n);
    expect(maxUint128).toBe(2n ** 128n - 1n);
    expect(events(receipt, 'ModelRegistered')[0]?.args).toMatchObject({ priceInPer1k: maxUint128, priceOutPer1k: 0n });
    expect(await getModel(c, 1n)).toMatchObject({ priceInPer1k: maxUint128, priceOutPer1k: 0n });
  });
});

describe('ModelRegistry: lineage', () => {
  it('refuses a root other than the committed one, naming both', async () => {
    const c = chain();
    const [curator, alice] = c.users as [HDAccount, HDAccount];
    const dn = await dataNetWith(c, curator, [rootA, rootB]);
    const forged = h('forged');
    const err = await expectRevert(register(c, alice, 'm', onDataNet('x', dn, 1n, forged)), 'LineageMismatch', [
      dn,
      1n,
      rootA,
      forged,
    ]);
    expect(err.message).toBe(
      `ModelRegistry.registerModel reverted with LineageMismatch("${dn}", "1", "${rootA}", "${forged}")`,
    );
    // Another version's root, or no root at all, is just as wrong.
    await expectRevert(register(c, alice, 'm', onDataNet('x', dn, 1n, rootB)), 'LineageMismatch', [
      dn,
      1n,
      rootA,
      rootB,
    ]);
    await expectRevert(register(c, alice, 'm', onDataNet('x', dn, 2n, zeroHash)), 'LineageMismatch', [
      dn,
      2n,
      rootB,
      zeroHash,
    ]);
    expect(await modelCount(c)).toBe(0n);
    await expectRevert(idByName(c, 'm'), 'UnknownModelName', ['m']);

    await register(c, alice, 'm', noDataNet('ok'));
    await expectRevert(publish(c, alice, 1n, onDataNet('y', dn, 2n, rootA)), 'LineageMismatch', [dn, 2n, rootB, rootA]);
    expect((await getModel(c, 1n)).versionCount).toBe(1n);
  });

  it('refuses a DataNet version or root without a DataNet', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    const versionOnly = { ...noDataNet('v'), dataNetVersion: 1n };
    const rootOnly = { ...noDataNet('r'), dataNetRoot: rootA };
    const both = { ...noDataNet('b'), dataNetVersion: 1n, dataNetRoot: rootA };
    for (const v of [versionOnly, rootOnly, both])
      await expectRevert(register(c, alice, 'm', v), 'InconsistentLineage', []);
    expect(await modelCount(c)).toBe(0n);
    await register(c, alice, 'm', noDataNet('ok'));
    for (const v of [versionOnly, rootOnly, both])
      await expectRevert(publish(c, alice, 1n, v), 'InconsistentLineage', []);
    expect((await getModel(c, 1n)).versionCount).toBe(1n);
  });

  it("passes up the DataNet registry's UnknownDataNet and UnknownVersion", async () => {
    const c = chain();
    const [curator, alice] = c.users as [HDAccount, HDAccount];
    const dn = await dataNetWith(c, curator, [rootA]);
    const err = await expectRevert(register(c, alice, 'm', onDataNet('x', 99n, 1n, rootA)), 'UnknownDataNet', [99n]);
    expect(err.message).toBe('ModelRegistry.registerModel reverted with UnknownDataNet("99")');
    await expectRevert(register(c, alice, 'm', onDataNet('x', dn + 1n, 1n, rootA)), 'UnknownDataNet', [dn + 1n]);
    await expectRevert(register(c, alice, 'm', onDataNet('x', dn, 0n, zeroHash)), 'UnknownVersion', [dn, 0n]);
    await expectRevert(register(c, alice, 'm', onDataNet('x', dn, 2n, rootB)), 'UnknownVersion', [dn, 2n]);
    await register(c, alice, 'm', onDataNet('x', dn, 1n, rootA));
    // A version committed later can be published against once it is on chain, not before.
    await expectRevert(publish(c, alice, 1n, onDataNet('y', dn, 2n, rootB)), 'UnknownVersion', [dn, 2n]);
    await sendTx(c.clients, curator, {
      ...dataNets(c),
      functionName: 'commitVersion',
      args: [dn, 2n, rootB, 5n, 'bafymanifest2'],
    });
    const receipt = await publish(c, alice, 1n, onDataNet('y', dn, 2n, rootB));
    expect(events(receipt, 'ModelVersionPublished')[0]?.args).toMatchObject({ version: 2n, dataNetVersion: 2n });
    await expectRevert(publish(c, alice, 1n, onDataNet('z', 99n, 1n, rootA)), 'UnknownDataNet', [99n]);
  });
});

describe('ModelRegistry: versions', () => {
  it('publishes versions in order; latestVersion returns the newest and older ones stay readable', async () => {
    const c = chain();
    const [curator, alice] = c.users as [HDAccount, HDAccount];
    const dn = await dataNetWith(c, curator, [rootA, rootB]);
    const v1 = onDataNet('v1', dn, 1n, rootA);
    const r1 = await register(c, alice, 'm', v1);
    const expected = [{ ...v1, publishedAt: await blockTime(c, r1) }];
    for (const [i, v] of [onDataNet('v2', dn, 2n, rootB), noDataNet('v3'), onDataNet('v4', dn, 1n, rootA)].entries()) {
      const version = BigInt(i + 2);
      const { result } = await c.clients.public.simulateContract({
        ...models(c),
        functionName: 'publishVersion',
        args: [1n, v],
        account: alice,
      });
      expect(result).toBe(version);
      const receipt = await publish(c, alice, 1n, v);
      // Each version here has a new adapter, which the model claims.
      expect(eventNames(receipt)).toEqual(['AdapterClaimed', 'ModelVersionPublished']);
      expect(events(receipt, 'ModelVersionPublished')[0]?.args).toEqual({ modelId: 1n, version, ...v });
      expected.push({ ...v, publishedAt: await blockTime(c, receipt) });
      expect((await getModel(c, 1n)).versionCount).toBe(version);
      expect(await latestVersion(c, 1n)).toEqual([version, expected.at(-1)]);
    }
    for (const [i, v] of expected.entries()) expect(await getVersion(c, 1n, BigInt(i + 1))).toEqual(v);
  });

  it('refuses version 0 and versions beyond the latest', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    const err = await expectRevert(getVersion(c, 1n, 0n), 'UnknownModelVersion', [1n, 0n]);
    expect(err.message).toBe('ModelRegistry.getVersion reverted with UnknownModelVersion("1", "0")');
    await expectRevert(getVersion(c, 1n, 2n), 'UnknownModelVersion', [1n, 2n]);
    await publish(c, alice, 1n, noDataNet('2'));
    expect((await getVersion(c, 1n, 2n)).adapterHash).toBe(h('adapter:2'));
    await expectRevert(getVersion(c, 1n, 3n), 'UnknownModelVersion', [1n, 3n]);
    await expectRevert(getVersion(c, 1n, 2n ** 64n - 1n), 'UnknownModelVersion', [1n, 2n ** 64n - 1n]);
  });

  it('refuses new versions of a deactivated model until it is reactivated', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    await setActive(c, alice, 1n, false);
    const err = await expectRevert(publish(c, alice, 1n, noDataNet('2')), 'ModelInactive', [1n]);
    expect(err.message).toBe('ModelRegistry.publishVersion reverted with ModelInactive("1")');
    expect((await getModel(c, 1n)).versionCount).toBe(1n);
    await setActive(c, alice, 1n, true);
    await publish(c, alice, 1n, noDataNet('2'));
    expect((await latestVersion(c, 1n))[0]).toBe(2n);
  });
});

describe('ModelRegistry: owner functions', () => {
  it('updates prices (PricesUpdated), including to 0 and 2^128-1, also while deactivated', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'), 10n, 20n);
    for (const [pin, pout] of [
      [0n, 0n],
      [maxUint128, maxUint128],
      [123n, 4_567n],
    ] as const) {
      const receipt = await setPrices(c, alice, 1n, pin, pout);
      expect(eventNames(receipt)).toEqual(['PricesUpdated']);
      expect(events(receipt, 'PricesUpdated')[0]?.args).toEqual({
        modelId: 1n,
        priceInPer1k: pin,
        priceOutPer1k: pout,
      });
      expect(await getModel(c, 1n)).toMatchObject({ priceInPer1k: pin, priceOutPer1k: pout });
    }
    await setActive(c, alice, 1n, false);
    await setPrices(c, alice, 1n, 1n, 2n);
    expect(await getModel(c, 1n)).toMatchObject({
      active: false,
      priceInPer1k: 1n,
      priceOutPer1k: 2n,
      versionCount: 1n,
    });
  });

  it('deactivates and reactivates (ActiveChanged), refusing a no-op change', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    const err = await expectRevert(setActive(c, alice, 1n, true), 'ActiveUnchanged', [1n, true]);
    expect(err.message).toBe('ModelRegistry.setActive reverted with ActiveUnchanged("1", true)');
    const off = await setActive(c, alice, 1n, false);
    expect(eventNames(off)).toEqual(['ActiveChanged']);
    expect(events(off, 'ActiveChanged')[0]?.args).toEqual({ modelId: 1n, active: false });
    expect((await getModel(c, 1n)).active).toBe(false);
    await expectRevert(setActive(c, alice, 1n, false), 'ActiveUnchanged', [1n, false]);
    // A deactivated model stays readable and keeps its name.
    expect(await idByName(c, 'm')).toBe(1n);
    expect((await latestVersion(c, 1n))[0]).toBe(1n);
    const on = await setActive(c, alice, 1n, true);
    expect(events(on, 'ActiveChanged')[0]?.args).toEqual({ modelId: 1n, active: true });
    expect((await getModel(c, 1n)).active).toBe(true);
  });

  it('transfers ownership: the new owner has every right, the old one none', async () => {
    const c = chain();
    const [alice, bob] = c.users as [HDAccount, HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    const receipt = await transfer(c, alice, 1n, bob.address);
    const [moved, ...rest] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'ModelOwnershipTransferred' });
    expect(rest).toHaveLength(0);
    expect(moved?.args).toEqual({ modelId: 1n, previousOwner: alice.address, newOwner: bob.address });
    expect((await getModel(c, 1n)).owner).toBe(bob.address);

    const notOwner = [1n, alice.address];
    await expectRevert(publish(c, alice, 1n, noDataNet('2')), 'NotModelOwner', notOwner);
    await expectRevert(setPrices(c, alice, 1n, 1n, 1n), 'NotModelOwner', notOwner);
    await expectRevert(setActive(c, alice, 1n, false), 'NotModelOwner', notOwner);
    await expectRevert(transfer(c, alice, 1n, alice.address), 'NotModelOwner', notOwner);

    await publish(c, bob, 1n, noDataNet('2'));
    await setPrices(c, bob, 1n, 1n, 1n);
    await setActive(c, bob, 1n, false);
    expect(await getModel(c, 1n)).toMatchObject({ owner: bob.address, versionCount: 2n, active: false, name: 'm' });
    expect(await idByName(c, 'm')).toBe(1n);
    await transfer(c, bob, 1n, alice.address);
    expect((await getModel(c, 1n)).owner).toBe(alice.address);
    await expectRevert(setActive(c, bob, 1n, true), 'NotModelOwner', [1n, bob.address]);
  });

  it('refuses a transfer to the zero address', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    const err = await expectRevert(transfer(c, alice, 1n, zeroAddress), 'ZeroAddress', []);
    expect(err.message).toBe('ModelRegistry.transferModelOwnership reverted with ZeroAddress()');
    expect((await getModel(c, 1n)).owner).toBe(alice.address);
  });

  it('refuses every owner-only function to anyone else, naming model and caller', async () => {
    const c = chain();
    const [alice, mallory] = c.users as [HDAccount, HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    const args = [1n, mallory.address];
    const err = await expectRevert(publish(c, mallory, 1n, noDataNet('2')), 'NotModelOwner', args);
    expect(err.message).toBe(`ModelRegistry.publishVersion reverted with NotModelOwner("1", "${mallory.address}")`);
    await expectRevert(setPrices(c, mallory, 1n, 0n, 0n), 'NotModelOwner', args);
    await expectRevert(setActive(c, mallory, 1n, false), 'NotModelOwner', args);
    await expectRevert(transfer(c, mallory, 1n, mallory.address), 'NotModelOwner', args);
    // The deployer has no say either.
    await expectRevert(setPrices(c, c.deployer, 1n, 0n, 0n), 'NotModelOwner', [1n, c.deployer.address]);
    expect(await getModel(c, 1n)).toMatchObject({
      owner: alice.address,
      active: true,
      versionCount: 1n,
      priceInPer1k: 10n,
    });
  });

  it('refuses every call on an unknown model id with UnknownModel', async () => {
    const c = chain();
    const [alice] = c.users as [HDAccount];
    await register(c, alice, 'm', noDataNet('1'));
    for (const id of [0n, 2n, 2n ** 256n - 1n]) {
      await expectRevert(getModel(c, id), 'UnknownModel', [id]);
      await expectRevert(getVersion(c, id, 1n), 'UnknownModel', [id]);
      await expectRevert(getVersion(c, id, 0n), 'UnknownModel', [id]);
      await expectRevert(latestVersion(c, id), 'UnknownModel', [id]);
      await expectRevert(publish(c, alice, id, noDataNet('2')), 'UnknownModel', [id]);
      await expectRevert(setPrices(c, alice, id, 1n, 1n), 'UnknownModel', [id]);
      await expectRevert(setActive(c, alice, id, false), 'UnknownModel', [id]);
      await expectRevert(transfer(c, alice, id, alice.address), 'UnknownModel', [id]);
    }
    const err = await expectRevert(latestVersion(c, 2n), 'UnknownModel');
    expect(err.message).toBe('ModelRegistry.latestVersion reverted with UnknownModel("2")');
    await expectRevert(idByName(c, 'nope'), 'UnknownModelName', ['nope']);
  });
});

// ------------------------------------------------------------------------------------------ property test

/** 'Alpha' and 'bet\u0430' (Cyrillic a) imitate 'alpha' and 'beta': never registrable. */
const NAMES = ['alpha', 'beta', 'Alpha', 'gamma', 'bet\u0430', 'delta'] as const;
/** Adapters are drawn from a small pool (adapter: index), so that owners try each other's. */
const ADAPTERS = 4;
type Lineage = 'none' | 'v1' | 'v2';
type Op =
  | { op: 'register'; who: number; name: number; priceIn: bigint; priceOut: bigint; lineage: Lineage; adapter: number }
  /** `asOwner`: the call comes from the model's owner (when the model exists); otherwise from owner `who`. */
  | { op: 'publish'; model: bigint; asOwner: boolean; who: number; lineage: Lineage; adapter: number }
  | { op: 'setPrices'; model: bigint; asOwner: boolean; who: number; priceIn: bigint; priceOut: bigint };

const priceArb = fc.oneof(fc.constant(0n), fc.bigInt(1n, 10n ** 21n), fc.constant(maxUint128));
const whoArb = fc.integer({ min: 0, max: 2 });
const lineageArb = fc.constantFrom<Lineage>('none', 'v1', 'v2');
const adapterArb = fc.integer({ min: 0, max: ADAPTERS - 1 });
const modelArb = fc.bigInt(1n, 5n);
const asOwnerArb = fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('register' as const),
    who: whoArb,
    name: fc.integer({ min: 0, max: NAMES.length - 1 }),
    priceIn: priceArb,
    priceOut: priceArb,
    lineage: lineageArb,
    adapter: adapterArb,
  }),
  fc.record({
    op: fc.constant('publish' as const),
    model: modelArb,
    asOwner: asOwnerArb,
    who: whoArb,
    lineage: lineageArb,
    adapter: adapterArb,
  }),
  fc.record({
    op: fc.constant('setPrices' as const),
    model: modelArb,
    asOwner: asOwnerArb,
    who: whoArb,
    priceIn: priceArb,
    priceOut: priceArb,
  }),
);

interface ModelState {
  owner: Address;
  name: string;
  priceInPer1k: bigint;
  priceOutPer1k: bigint;
  versions: VersionInput[];
}

describe('ModelRegistry: model-based property', () => {
  it('agrees with a TypeScript model over random register / publish / setPrices sequences by three owners', async () => {
    const c = chain();
    const owners = c.users.slice(0, 3) as [HDAccount, HDAccount, HDAccount];
    const curator = c.users[3] as HDAccount;
    const dn = await dataNetWith(c, curator, [rootA, rootB]);
    const test = c.clients.test();

    const run = async (ops: Op[]) => {
      const state: ModelState[] = []; // model id i + 1
      /** adapter hash → the model that first published it */
      const adapterHolder = new Map<Hex, bigint>();
      let step = 0;
      const lineage = (l: Lineage, adapter: number): VersionInput => {
        const tag = `p${step}`;
        const v =
          l === 'none' ? noDataNet(tag) : l === 'v1' ? onDataNet(tag, dn, 1n, rootA) : onDataNet(tag, dn, 2n, rootB);
        return { ...v, adapterHash: h(`adapter:pool ${adapter}`) };
      };
      /** AdapterTaken if `v`'s adapter belongs to a model other than `model`. */
      const adapterCheck = (v: VersionInput, model: bigint): [string, unknown[]] | undefined => {
        const holder = adapterHolder.get(v.adapterHash);
        return holder !== undefined && holder !== model ? ['AdapterTaken', [v.adapterHash, holder]] : undefined;
      };
      /** Runs `p`; the model's predicted error (or undefined for success) must match. */
      const expectOutcome = async (p: Promise<TransactionReceipt>, error?: [string, unknown[]]) => {
        if (error) await expectRevert(p, error[0], error[1]);
        else await p;
      };
      const caller = (o: { model: bigint; asOwner: boolean; who: number }): HDAccount => {
        const m = state[Number(o.model) - 1];
        const byOwner = o.asOwner && m ? owners.find((a) => a.address === m.owner) : undefined;
        return byOwner ?? (owners[o.who] as HDAccount);
      };
      /** What an owner-only call on `model` by `who` must revert with, if anything. */
      const ownerCheck = (model: bigint, who: HDAccount): [string, unknown[]] | undefined => {
        const m = state[Number(model) - 1];
        if (!m) return ['UnknownModel', [model]];
        if (m.owner !== who.address) return ['NotModelOwner', [model, who.address]];
        return undefined;
      };

      for (const o of ops) {
        step++;
        if (o.op === 'register') {
          const who = owners[o.who] as HDAccount;
          const name = NAMES[o.name] as string;
          const v = lineage(o.lineage, o.adapter);
          const taken = state.findIndex((m) => m.name === name);
          const id = BigInt(state.length + 1);
          const error: [string, unknown[]] | undefined = !isValidModelName(name)
            ? ['InvalidName', [name]]
            : taken >= 0
              ? ['NameTaken', [name, BigInt(taken + 1)]]
              : adapterCheck(v, id);
          await expectOutcome(register(c, who, name, v, o.priceIn, o.priceOut), error);
          if (!error) {
            state.push({ owner: who.address, name, priceInPer1k: o.priceIn, priceOutPer1k: o.priceOut, versions: [v] });
            if (!adapterHolder.has(v.adapterHash)) adapterHolder.set(v.adapterHash, id);
          }
        } else if (o.op === 'publish') {
          const who = caller(o);
          const v = lineage(o.lineage, o.adapter);
          const error = ownerCheck(o.model, who) ?? adapterCheck(v, o.model);
          await expectOutcome(publish(c, who, o.model, v), error);
          if (!error) {
            state[Number(o.model) - 1]?.versions.push(v);
            if (!adapterHolder.has(v.adapterHash)) adapterHolder.set(v.adapterHash, o.model);
          }
        } else {
          const who = caller(o);
          const error = ownerCheck(o.model, who);
          await expectOutcome(setPrices(c, who, o.model, o.priceIn, o.priceOut), error);
          const m = state[Number(o.model) - 1];
          if (!error && m) {
            m.priceInPer1k = o.priceIn;
            m.priceOutPer1k = o.priceOut;
          }
        }
      }

      expect(await modelCount(c)).toBe(BigInt(state.length));
      for (const [i, m] of state.entries()) {
        const id = BigInt(i + 1);
        expect(await getModel(c, id)).toEqual({
          owner: m.owner,
          active: true,
          versionCount: BigInt(m.versions.length),
          priceInPer1k: m.priceInPer1k,
          priceOutPer1k: m.priceOutPer1k,
          baseModelHash: BASE,
          name: m.name,
        });
        const [latest, data] = await latestVersion(c, id);
        expect(latest).toBe(BigInt(m.versions.length));
        const { publishedAt: _, ...lineageOnChain } = data;
        expect(lineageOnChain).toEqual(m.versions.at(-1));
        await expectRevert(getVersion(c, id, latest + 1n), 'UnknownModelVersion', [id, latest + 1n]);
      }
      await expectRevert(getModel(c, BigInt(state.length + 1)), 'UnknownModel', [BigInt(state.length + 1)]);
      for (const name of NAMES) {
        const i = state.findIndex((m) => m.name === name);
        if (i >= 0) expect(await idByName(c, name)).toBe(BigInt(i + 1));
        else await expectRevert(idByName(c, name), 'UnknownModelName', [name]);
      }
      for (let a = 0; a < ADAPTERS; a++) {
        const hash = h(`adapter:pool ${a}`);
        const byAdapter = await c.clients.public.readContract({
          ...models(c),
          functionName: 'modelIdByAdapter',
          args: [hash],
        });
        expect(byAdapter, `modelIdByAdapter(pool ${a})`).toBe(adapterHolder.get(hash) ?? 0n);
      }
    };

    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 3, maxLength: 12 }), async (ops) => {
        const snapshot = await test.snapshot();
        try {
          await run(ops);
        } finally {
          await test.revert({ id: snapshot });
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('ModelRegistry: issue 10 attack 8, squatting', () => {
  it('attack: look-alike model name squat is refused', async () => {
    const c = chain();
    const [alice, mallory] = c.users as [HDAccount, HDAccount];
    await register(c, alice, 'planet-facts', noDataNet('real'));
    // Case, Cyrillic "а" (U+0430), Greek omicron, a fullwidth hyphen, a zero-width space, a trailing space, NFD é:
    // each would be a second model that a user cannot tell from the first.
    const lookAlikes = [
      'Planet-facts',
      'PLANET-FACTS',
      'pl\u0430net-facts',
      'planet-fact\u03bf',
      'planet\uff0dfacts',
      'planet\u200b-facts',
      'planet-facts ',
      'cafe\u0301',
      'caf\u00e9',
    ];
    for (const name of lookAlikes) {
      const err = await expectRevert(register(c, mallory, name, noDataNet(`squat ${name}`)), 'InvalidName', [name]);
      expect(err.message).toBe(`ModelRegistry.registerModel reverted with InvalidName(${JSON.stringify(name)})`);
    }
    expect(await modelCount(c)).toBe(1n);
    expect(await idByName(c, 'planet-facts')).toBe(1n);
  });

  it("attack: re-registering another owner's adapter hash is refused", async () => {
    const c = chain();
    const [alice, mallory] = c.users as [HDAccount, HDAccount];
    const v = noDataNet('alice adapter');
    await register(c, alice, 'planets', v);
    // Mallory publishes Alice's adapter under her own model, to collect the owner's share of its inferences.
    const err = await expectRevert(
      register(c, mallory, 'planets-copy', { ...noDataNet('mallory'), adapterHash: v.adapterHash }),
      'AdapterTaken',
      [v.adapterHash, 1n],
    );
    expect(err.message).toBe(`ModelRegistry.registerModel reverted with AdapterTaken("${v.adapterHash}", "1")`);
    // Nor as a later version of a model she already owns.
    await register(c, mallory, 'mine', noDataNet('mallory own'));
    await expectRevert(publish(c, mallory, 2n, { ...noDataNet('m2'), adapterHash: v.adapterHash }), 'AdapterTaken', [
      v.adapterHash,
      1n,
    ]);
    expect(await modelCount(c)).toBe(2n);
    expect((await getModel(c, 2n)).versionCount).toBe(1n);
    const byAdapter = (hash: Hex) =>
      c.clients.public.readContract({ ...models(c), functionName: 'modelIdByAdapter', args: [hash] });
    expect(await byAdapter(v.adapterHash)).toBe(1n);
    expect(await byAdapter(noDataNet('mallory own').adapterHash)).toBe(2n);
    expect(await byAdapter(h('never published'))).toBe(0n);
  });

  it('lets a model republish its own adapter (even after a transfer), and never claims the zero hash', async () => {
    const c = chain();
    const [alice, bob] = c.users as [HDAccount, HDAccount];
    const v = noDataNet('mine');
    await register(c, alice, 'planets', v);
    const again = await publish(c, alice, 1n, { ...noDataNet('v2'), adapterHash: v.adapterHash });
    // Already its own: nothing new is claimed.
    expect(eventNames(again)).toEqual(['ModelVersionPublished']);
    await transfer(c, alice, 1n, bob.address);
    await publish(c, bob, 1n, { ...noDataNet('v3'), adapterHash: v.adapterHash });
    expect((await getModel(c, 1n)).versionCount).toBe(3n);
    // Base models without an adapter all carry the zero hash: nobody owns it.
    const baseA = await register(c, alice, 'base-a', { ...noDataNet('a'), adapterHash: zeroHash });
    expect(eventNames(baseA)).toEqual(['ModelRegistered', 'ModelVersionPublished']);
    await register(c, bob, 'base-b', { ...noDataNet('b'), adapterHash: zeroHash });
    expect(
      await c.clients.public.readContract({ ...models(c), functionName: 'modelIdByAdapter', args: [zeroHash] }),
    ).toBe(0n);
  });
});
