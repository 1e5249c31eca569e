/**
 * The chain-event mirror on a real anvil, with an in-memory transactional store and a test domain that records
 * each applied event with its block (its rollback drops the events above the ancestor). Reorgs are made with
 * anvil's evm_snapshot / evm_revert followed by different transactions: the blocks after the snapshot are replaced
 * (or lost) and the mirror must notice, roll back to the newest block it shares with the chain, and mirror the new
 * blocks.
 */
import type { HDAccount, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestChain, type TestChain } from '../../test/fixtures/chain.js';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { sendTx } from './clients.js';
import { createEventMirror, type MirrorBlock, type MirrorLog, type MirrorStore } from './event-mirror.js';
import { ModelRegistryArtifact } from './generated/index.js';

type Seen = { block: bigint; event: 'ModelRegistered' | 'PricesUpdated'; modelId: bigint; detail: string };
type State = { blocks: MirrorBlock[]; seen: Seen[] };

/** A store whose transactions work on a copy that replaces the committed state only when they resolve. */
function memoryStore(): MirrorStore<State> & { committed(): State } {
  let committed: State = { blocks: [], seen: [] };
  return {
    committed: () => committed,
    async transaction(fn) {
      const tx: State = { blocks: [...committed.blocks], seen: [...committed.seen] };
      const result = await fn(tx);
      committed = tx;
      return result;
    },
    async blocks(tx) {
      return [...(tx ?? committed).blocks];
    },
    async advance(tx, block, keep) {
      tx.blocks = [block, ...tx.blocks.filter((b) => b.number < block.number)].slice(0, keep);
    },
    async rewind(tx, block) {
      tx.blocks = [block, ...tx.blocks.filter((b) => b.number < block.number)];
    },
  };
}

describe('chain-event mirror', () => {
  let chain: TestChain;
  let owner: HDAccount;
  let models = 0;
  const registry = () =>
    ({
      address: chain.deployment.contracts.ModelRegistry,
      abi: ModelRegistryArtifact.abi,
      contract: 'ModelRegistry',
    }) as const;
  const h = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`;

  /** Registers a new model; returns its id. */
  async function register(): Promise<bigint> {
    models++;
    const lineage = {
      adapterHash: h(1000 + models),
      dataNetId: 0n,
      dataNetVersion: 0n,
      dataNetRoot: h(0),
      configHash: h(2),
      receiptCID: 'bafkreiaaa',
    };
    await sendTx(chain.clients, owner, {
      ...registry(),
      functionName: 'registerModel',
      args: [`model-${models}`, h(9), lineage, 1n, 1n],
    });
    return BigInt(models);
  }
  const setPrices = (id: bigint, priceIn: bigint, priceOut: bigint) =>
    sendTx(chain.clients, owner, { ...registry(), functionName: 'setPrices', args: [id, priceIn, priceOut] });
  const head = async (): Promise<MirrorBlock> => {
    const b = await chain.clients.public.getBlock();
    return { number: b.number, hash: b.hash };
  };

  /**
   * A mirror of ModelRegistered and PricesUpdated starting at a new empty block, with its store and the ancestors
   * its rollbacks were called with.
   */
  async function mirrorFromHere(o: { maxRange?: bigint; failOnce?: (l: Seen) => boolean; keep?: number } = {}) {
    await chain.clients.test().mine({ blocks: 1 });
    const start = await head();
    const store = memoryStore();
    const rollbacks: bigint[] = [];
    let failed = false;
    const mirror = createEventMirror({
      name: 'ModelRegistry (test)',
      client: chain.clients.public,
      address: chain.deployment.contracts.ModelRegistry,
      abi: ModelRegistryArtifact.abi,
      eventNames: ['ModelRegistered', 'PricesUpdated'],
      start,
      store,
      ...(o.maxRange === undefined ? {} : { maxRange: o.maxRange }),
      ...(o.keep === undefined ? {} : { keep: o.keep }),
      async apply(
        tx,
        logs: readonly MirrorLog<typeof ModelRegistryArtifact.abi, 'ModelRegistered' | 'PricesUpdated'>[],
      ) {
        for (const l of logs) {
          // Typed by the ABI: each event's own args, no casts.
          const seen: Seen =
            l.eventName === 'ModelRegistered'
              ? { block: l.blockNumber, event: l.eventName, modelId: l.args.modelId, detail: l.args.name }
              : {
                  block: l.blockNumber,
                  event: l.eventName,
                  modelId: l.args.modelId,
                  detail: `${l.args.priceInPer1k}/${l.args.priceOutPer1k}`,
                };
          tx.seen.push(seen);
          if (!failed && o.failOnce?.(seen)) {
            failed = true;
            throw new Error('crash while applying a batch');
          }
        }
      },
      async rollback(tx, r) {
        rollbacks.push(r.ancestor);
        tx.seen = tx.seen.filter((s) => s.block <= r.ancestor);
      },
    });
    return { mirror, store, start, rollbacks, seen: () => store.committed().seen.map((s) => s.detail) };
  }

  beforeAll(async () => {
    chain = await startTestChain();
    owner = chain.users[0] as HDAccount;
  });
  afterAll(async () => {
    await chain?.anvil.stop();
  });

  it('applies only the chosen events, in order, across batches, and keeps the last block and its hash', async () => {
    const m = await mirrorFromHere({ maxRange: 2n });
    const id = await register(); // ModelRegistered + ModelVersionPublished + AdapterClaimed: only the first is chosen
    await setPrices(id, 2n, 3n);
    await setPrices(id, 4n, 5n);
    expect(await m.mirror.sync()).toBe(3);
    expect(m.seen()).toEqual([`model-${id}`, '2/3', '4/5']);
    const top = await head();
    expect(await m.mirror.status()).toMatchObject({ block: top.number, hash: top.hash });
    expect(await m.mirror.sync()).toBe(0);
    expect(m.rollbacks).toEqual([]);
  });

  it("a replaced block's events are undone and the new block's applied", async () => {
    const id = await register();
    const m = await mirrorFromHere();
    await m.mirror.sync();
    const ancestor = await head();
    const snapshot = await chain.clients.test().snapshot();
    await setPrices(id, 5n, 6n);
    await m.mirror.sync();
    expect(m.seen()).toEqual(['5/6']);
    const replaced = await head();

    await chain.clients.test().revert({ id: snapshot });
    await setPrices(id, 7n, 8n); // a different block at the same height
    const now = await head();
    expect(now.number).toBe(replaced.number);
    expect(now.hash).not.toBe(replaced.hash);

    expect(await m.mirror.sync()).toBe(1);
    expect(m.rollbacks).toEqual([ancestor.number]);
    expect(m.seen()).toEqual(['7/8']);
    expect(await m.mirror.status()).toMatchObject({ block: now.number, hash: now.hash });
  });

  it('a chain that lost blocks is rolled back to the newest block it shares with the mirror', async () => {
    const id = await register();
    const m = await mirrorFromHere();
    await setPrices(id, 1n, 1n);
    await m.mirror.sync();
    await setPrices(id, 2n, 2n);
    await m.mirror.sync();
    const ancestor = await head();
    const snapshot = await chain.clients.test().snapshot();
    for (const p of [3n, 4n, 5n]) {
      await setPrices(id, p, p);
      await m.mirror.sync();
    }
    expect(m.seen()).toEqual(['1/1', '2/2', '3/3', '4/4', '5/5']);
    const cursor = await head();

    await chain.clients.test().revert({ id: snapshot });
    await setPrices(id, 9n, 9n); // the chain is now shorter than the mirror's cursor
    expect((await head()).number).toBeLessThan(cursor.number);

    await m.mirror.sync();
    expect(m.rollbacks).toEqual([ancestor.number]);
    expect(m.seen()).toEqual(['1/1', '2/2', '9/9']);
  });

  it('a reorg deeper than the remembered blocks rolls back to the start block', async () => {
    const id = await register();
    const m = await mirrorFromHere({ keep: 2 });
    const snapshot = await chain.clients.test().snapshot();
    for (const p of [1n, 2n, 3n, 4n]) {
      await setPrices(id, p, p);
      await m.mirror.sync();
    }
    expect(m.store.committed().blocks).toHaveLength(2);
    // Back to the start block itself (it stays: the snapshot was taken at it), then other blocks.
    await chain.clients.test().revert({ id: snapshot });
    await setPrices(id, 8n, 8n);
    await m.mirror.sync();
    expect(m.rollbacks).toEqual([m.start.number]);
    expect(m.seen()).toEqual(['8/8']);
  });

  it('a chain without the start block (the deployment gone) is CHAIN_MISMATCH', async () => {
    const id = await register();
    const snapshot = await chain.clients.test().snapshot();
    const m = await mirrorFromHere(); // its start block is mined after the snapshot
    await setPrices(id, 1n, 1n);
    await m.mirror.sync();

    await chain.clients.test().revert({ id: snapshot });
    await setPrices(id, 2n, 2n);
    await setPrices(id, 3n, 3n);
    const e = await rejectionOf(m.mirror.sync());
    expect(e.code).toBe('CHAIN_MISMATCH');
    expect(e.message).toBe(
      `The chain no longer has block ${m.start.number} (${m.start.hash}) where the ModelRegistry (test) mirror starts: the deployment is gone (the chain was reset, or this is another chain). Use a new --data-dir, or restore the chain`,
    );
    expect(m.seen()).toEqual(['1/1']); // nothing rolled back
  });

  it('a crash while applying a batch repeats the batch: nothing skipped, nothing doubled', async () => {
    const id = await register();
    const m = await mirrorFromHere({ maxRange: 1n, failOnce: (s) => s.detail === '2/2' });
    await setPrices(id, 1n, 1n);
    await setPrices(id, 2n, 2n);
    await setPrices(id, 3n, 3n);
    await expect(m.mirror.sync()).rejects.toThrow('crash while applying a batch');
    expect(m.seen()).toEqual(['1/1']); // the batch before the crash is kept with its cursor
    const { block } = await m.mirror.status();
    expect(await m.mirror.sync()).toBe(2);
    expect(m.seen()).toEqual(['1/1', '2/2', '3/3']);
    expect((await m.mirror.status()).block).toBeGreaterThan(block ?? 0n);
  });
});
