import type { HDAccount } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChain, type TestChain } from '../../test/fixtures/chain.js';
import { storeBackends } from '../../test/fixtures/db.js';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { ModelRegistryArtifact, sendTx } from '../chain/index.js';
import { type Db, migrate, migrations } from '../store/index.js';
import { createModelRegistryMirror, type ModelRegistryMirror } from './registry.js';

const zero = `0x${'00'.repeat(32)}` as const;
const h = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const;

describe.each(storeBackends())('model registry mirror on $name', (backend) => {
  let chain: TestChain;
  let db: Db;
  let mirror: ModelRegistryMirror;
  let owner: HDAccount;
  const registry = () =>
    ({
      address: chain.deployment.contracts.ModelRegistry,
      abi: ModelRegistryArtifact.abi,
      contract: 'ModelRegistry',
    }) as const;

  beforeAll(async () => {
    chain = await startTestChain();
    owner = chain.users[0] as HDAccount;
    db = await backend.open();
    await migrate(db, migrations);
    mirror = createModelRegistryMirror(db, chain.clients, chain.deployment);
  });
  afterAll(async () => {
    await db?.close();
    await chain?.anvil.stop();
  });

  it('mirrors registrations, versions, prices, activation and ownership, and resolves by id or name', async () => {
    const lineage = {
      adapterHash: h(1),
      dataNetId: 0n,
      dataNetVersion: 0n,
      dataNetRoot: zero,
      configHash: h(2),
      receiptCID: 'bafkreiaaa',
    };
    await sendTx(chain.clients, owner, {
      ...registry(),
      functionName: 'registerModel',
      args: ['planets', h(9), lineage, 1_000n, 2_000n],
    });
    const first = await mirror.resolve('planets'); // not mirrored yet: resolve reads the chain once
    expect(first).toMatchObject({
      id: 1n,
      name: 'planets',
      owner: owner.address,
      priceInPer1k: 1_000n,
      priceOutPer1k: 2_000n,
      active: true,
    });
    expect(first.latest).toMatchObject({
      version: 1,
      adapterHash: h(1),
      dataNetId: null,
      dataNetRoot: null,
      receiptCid: 'bafkreiaaa',
    });

    await sendTx(chain.clients, owner, {
      ...registry(),
      functionName: 'publishVersion',
      args: [1n, { ...lineage, adapterHash: h(3) }],
    });
    await sendTx(chain.clients, owner, { ...registry(), functionName: 'setPrices', args: [1n, 5n, 6n] });
    await sendTx(chain.clients, owner, { ...registry(), functionName: 'setActive', args: [1n, false] });
    const buyer = chain.users[1] as HDAccount;
    await sendTx(chain.clients, owner, {
      ...registry(),
      functionName: 'transferModelOwnership',
      args: [1n, buyer.address],
    });
    await mirror.sync();
    expect(await mirror.resolve('1')).toMatchObject({
      priceInPer1k: 5n,
      priceOutPer1k: 6n,
      active: false,
      owner: buyer.address,
      latest: { version: 2, adapterHash: h(3) },
    });
    expect((await mirror.list()).map((m) => m.name)).toEqual(['planets']);
    expect(await mirror.sync()).toBe(0);
  });

  it('names the model it cannot find', async () => {
    const e = await rejectionOf(mirror.resolve('nope'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('No model "nope" is registered on chain 31337');
  });
});
