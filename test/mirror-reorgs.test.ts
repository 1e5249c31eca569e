/**
 * Each domain's chain-event mirror through a reorg, on a real chain and on every store backend: blocks the node
 * has mirrored are replaced (anvil's evm_snapshot, then evm_revert and different transactions), and the domain's
 * rollback must leave exactly what the new chain says — while keeping the node's own records (registered metadata
 * documents, what it charged on a channel, the vouchers it holds).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HDAccount, type Hex, maxUint256 } from 'viem';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DataNetRegistryArtifact,
  InferenceEscrowArtifact,
  ModelRegistryArtifact,
  OPEN,
  sendTx,
} from '../src/chain/index.js';
import { silentLogger } from '../src/core/index.js';
import {
  addCuratorOnChain,
  createDataNetOnChain,
  createDataNetService,
  removeCuratorOnChain,
} from '../src/datanets/index.js';
import { createModelRegistryMirror } from '../src/openlora/index.js';
import { createChannels, openChannel } from '../src/settlement/index.js';
import { createFsBlobStore, type Db, migrate, migrations } from '../src/store/index.js';
import { startTestChain, type TestChain } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { rejectionOf } from './fixtures/errors.js';

const h = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`;

const metadataInput = {
  name: 'Reorg facts',
  description: 'Rows about chains that change their mind',
  schema: {
    type: 'object',
    required: ['question', 'answer'],
    properties: { question: { type: 'string' }, answer: { type: 'string' } },
    additionalProperties: false,
  },
  license: { id: 'CC-BY-4.0' },
};

describe.each(storeBackends())('chain-event mirrors through a reorg on $name', (backend) => {
  let chain: TestChain;
  let db: Db;
  let owner: HDAccount;
  let other: HDAccount;
  let snapshot: Hex | undefined;

  /** Forgets the blocks mined since `snapshot` (taken by the test) and mines `then` in their place. */
  async function reorg(then: () => Promise<unknown>): Promise<void> {
    if (!snapshot) throw new Error('no snapshot taken');
    await chain.clients.test().revert({ id: snapshot });
    snapshot = undefined;
    await then();
  }

  beforeAll(async () => {
    chain = await startTestChain();
    [owner, other] = chain.users as [HDAccount, HDAccount];
  });
  afterAll(async () => {
    await chain?.anvil.stop();
  });
  // Each test gets a fresh database (its mirrors start at the deployment) and leaves the chain as it found it.
  let base: Hex | undefined;
  beforeEach(async () => {
    base = await chain.clients.test().snapshot();
    db = await backend.open();
    await migrate(db, migrations);
  });
  afterEach(async () => {
    await db?.close();
    if (base) await chain.clients.test().revert({ id: base });
  });

  it("a replaced block's model registry events are undone: prices, owner, a version and a model registered in it", async () => {
    const registry = {
      address: chain.deployment.contracts.ModelRegistry,
      abi: ModelRegistryArtifact.abi,
      contract: 'ModelRegistry',
    } as const;
    const lineage = (n: number) => ({
      adapterHash: h(n),
      dataNetId: 0n,
      dataNetVersion: 0n,
      dataNetRoot: h(0),
      configHash: h(2),
      receiptCID: 'bafkreiaaa',
    });
    const mirror = createModelRegistryMirror(db, chain.clients, chain.deployment, silentLogger());
    await sendTx(chain.clients, owner, {
      ...registry,
      functionName: 'registerModel',
      args: ['planets', h(9), lineage(1), 1_000n, 2_000n],
    });
    await mirror.sync();
    const before = await mirror.resolve('planets');

    snapshot = await chain.clients.test().snapshot();
    await sendTx(chain.clients, owner, { ...registry, functionName: 'setPrices', args: [before.id, 5n, 6n] });
    await sendTx(chain.clients, owner, { ...registry, functionName: 'publishVersion', args: [before.id, lineage(3)] });
    await sendTx(chain.clients, owner, {
      ...registry,
      functionName: 'transferModelOwnership',
      args: [before.id, other.address],
    });
    await sendTx(chain.clients, owner, {
      ...registry,
      functionName: 'registerModel',
      args: ['moons', h(9), lineage(4), 1n, 1n],
    });
    await mirror.sync();
    expect(await mirror.resolve('planets')).toMatchObject({ priceInPer1k: 5n, owner: other.address });
    expect((await mirror.list()).map((m) => m.name)).toEqual(['planets', 'moons']);

    await reorg(() =>
      sendTx(chain.clients, owner, { ...registry, functionName: 'setPrices', args: [before.id, 7n, 8n] }),
    );
    await mirror.sync();
    const after = await mirror.resolve('planets');
    expect(after).toMatchObject({ priceInPer1k: 7n, priceOutPer1k: 8n, owner: owner.address, active: true });
    expect(after.latest).toEqual(before.latest);
    expect((await mirror.list()).map((m) => m.name)).toEqual(['planets']);
    expect((await rejectionOf(mirror.resolve('moons'))).code).toBe('NOT_FOUND');
    const top = await chain.clients.public.getBlock();
    expect(await mirror.status()).toMatchObject({ name: 'ModelRegistry', block: top.number, hash: top.hash });
  });

  it("a replaced block's escrow events are undone; the node's charges and vouchers stay, a dropped channel stays closed", async () => {
    const node = chain.users[2] as HDAccount;
    const escrow = {
      address: chain.deployment.contracts.InferenceEscrow,
      abi: InferenceEscrowArtifact.abi,
      contract: 'InferenceEscrow',
    } as const;
    await sendTx(chain.clients, chain.deployer, {
      ...chain.token,
      functionName: 'transfer',
      args: [owner.address, 100n * OPEN],
    });
    const open = () =>
      openChannel({
        clients: chain.clients,
        deployment: chain.deployment,
        user: owner,
        node: node.address,
        deposit: 10n * OPEN,
        durationSeconds: 86_400,
      });
    const channels = createChannels(db, chain.clients, chain.deployment, silentLogger());
    const first = await open();
    // For top-ups (a permit leaves no allowance behind).
    await sendTx(chain.clients, owner, { ...chain.token, functionName: 'approve', args: [escrow.address, maxUint256] });
    await channels.sync();
    // What the node did on its own: charged 3 OPEN and holds a voucher for them (not the mirror's columns).
    await db.query(`UPDATE channels SET charged = $2, voucher_amount = $2, voucher_signature = '0x01' WHERE id = $1`, [
      first.toString(),
      (3n * OPEN).toString(),
    ]);
    const before = await channels.get(first);

    snapshot = await chain.clients.test().snapshot();
    await sendTx(chain.clients, owner, { ...escrow, functionName: 'topUp', args: [first, 5n * OPEN, 3_600n] });
    const second = await open();
    await channels.sync();
    expect(await channels.get(first)).toMatchObject({ deposit: 15n * OPEN, expiresAt: before.expiresAt + 3_600n });
    expect(await channels.get(second)).toMatchObject({ closed: false });

    await reorg(() => sendTx(chain.clients, owner, { ...escrow, functionName: 'topUp', args: [first, 1n * OPEN, 0n] }));
    await channels.sync();
    expect(await channels.get(first)).toMatchObject({
      deposit: 11n * OPEN,
      expiresAt: before.expiresAt,
      closed: false,
      redeemed: 0n,
      charged: 3n * OPEN,
      voucherAmount: 3n * OPEN,
      voucherSignature: '0x01',
    });
    // The chain no longer has the second channel: the node serves nothing on it.
    expect(await channels.get(second)).toMatchObject({ closed: true });
    const e = await rejectionOf(
      channels.reserve({
        channelId: second,
        node: node.address,
        authorization: { requestHash: h(1), maxFee: 1n, nonce: 1n, signature: '0x' },
        maxFee: 1n,
        nowSeconds: 0n,
      }),
    );
    expect(e.message).toBe(`Channel ${second} is closed`);
  });

  it("a replaced block's registry events are undone: curators and a DataNet created in it; the node's metadata stays", async () => {
    const registry = chain.deployment.contracts.DataNetRegistry;
    const service = createDataNetService({
      db,
      clients: chain.clients,
      deployment: chain.deployment,
      blobs: createFsBlobStore(mkdtempSync(join(tmpdir(), 'blobs-'))),
      log: silentLogger(),
    });
    const [c1, c2, c3] = chain.users.slice(2, 5) as [HDAccount, HDAccount, HDAccount];
    const { dataNetId, metadata } = await createDataNetOnChain(chain.clients, owner, registry, metadataInput);
    await addCuratorOnChain(chain.clients, owner, registry, dataNetId, c1.address);
    await service.register(dataNetId, metadata);
    expect((await service.get(dataNetId)).curators).toEqual([c1.address]);

    snapshot = await chain.clients.test().snapshot();
    await removeCuratorOnChain(chain.clients, owner, registry, dataNetId, c1.address);
    await addCuratorOnChain(chain.clients, owner, registry, dataNetId, c2.address);
    await sendTx(chain.clients, owner, {
      address: registry,
      abi: DataNetRegistryArtifact.abi,
      contract: 'DataNetRegistry',
      functionName: 'transferOwnership',
      args: [dataNetId, other.address],
    });
    const created = await createDataNetOnChain(chain.clients, other, registry, { ...metadataInput, name: 'Another' });
    await service.sync();
    expect(await service.get(dataNetId)).toMatchObject({ owner: other.address, curators: [c2.address] });
    expect((await service.get(created.dataNetId)).owner).toBe(other.address);

    await reorg(() => addCuratorOnChain(chain.clients, owner, registry, dataNetId, c3.address));
    await service.sync();
    const after = await service.get(dataNetId);
    expect(after).toMatchObject({ owner: owner.address, metadata: { name: 'Reorg facts' } });
    expect(after.curators).toEqual([c1.address, c3.address].sort());
    expect((await rejectionOf(service.get(created.dataNetId))).code).toBe('NOT_FOUND');
  });
});
