/**
 * One contract's events mirrored into a domain's database, typed by the contract's ABI (`log.eventName` and
 * `log.args` come straight from viem's `getContractEvents`, so a domain's `switch (log.eventName)` narrows its args).
 *
 * Crash safety: each batch of logs is applied in one transaction together with the cursor, so a crash repeats a
 * batch and never skips one.
 *
 * Reorgs: the cursor is the number AND hash of the last applied block, and the mirror remembers the hashes of its
 * recent applied blocks (the last block of each batch). Before each batch it checks that the chain still has the
 * cursor's block. When it does not (the chain replaced or lost blocks), the mirror finds the common ancestor — the
 * newest remembered block the chain still has, or else the start block — and, in one transaction, calls the
 * domain's `rollback` (which must leave its mirrored state as it was after the ancestor's block) and rewinds the
 * cursor to the ancestor; then it mirrors the chain's blocks above the ancestor as usual. When not even the start
 * block (the deployment) is on the chain any more, it throws CHAIN_MISMATCH: the deployment itself is gone.
 *
 * Storage is injected (`MirrorStore`: a transaction runner plus cursor reads and writes; src/store's
 * `chainCursorStore` is the one the node uses), so this file needs no database. One pass runs at a time per mirror;
 * a domain must not run two mirrors of one stream concurrently.
 */
import {
  type Abi,
  type Address,
  BlockNotFoundError,
  type ContractEventName,
  type GetContractEventsReturnType,
  type Hex,
  type PublicClient,
} from 'viem';
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { ContractName, Deployment } from './deployment.js';

type AnyLog<TAbi extends Abi> = GetContractEventsReturnType<TAbi, undefined, true>[number];

/** A decoded log of `TAbi` (one of the events `TName`): typed `eventName` and `args`, mined block number and hash. */
export type MirrorLog<TAbi extends Abi, TName extends ContractEventName<TAbi> = ContractEventName<TAbi>> = Extract<
  AnyLog<TAbi>,
  { eventName: TName }
>;

export interface MirrorBlock {
  number: bigint;
  hash: Hex;
}

/** Where a mirror keeps its place; the domain supplies it (src/store's `chainCursorStore(db, name)`). */
export interface MirrorStore<Tx> {
  /** Runs `fn` in one database transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * The cursor (last applied block) first, then the remembered applied blocks below it, newest first; [] before
   * the first batch. A hash may be null for a cursor written before hashes were kept.
   */
  blocks(tx?: Tx): Promise<{ number: bigint; hash: Hex | null }[]>;
  /** Makes `block` the cursor and remembers it, forgetting all but the newest `keep` remembered blocks. */
  advance(tx: Tx, block: MirrorBlock, keep: number): Promise<void>;
  /** Forgets the remembered blocks above `block` and makes `block` the cursor. */
  rewind(tx: Tx, block: MirrorBlock): Promise<void>;
}

/** What a domain's rollback is told. */
export interface MirrorRollback {
  /** The newest block the mirror and the chain share: the effects of the logs of every block above it must go. */
  ancestor: bigint;
  /**
   * Applies (through `apply`, in the rollback's transaction) every log from the start block through the ancestor:
   * for a domain that clears its mirrored state and re-derives it. Returns how many logs it applied.
   */
  replay(): Promise<number>;
}

export interface EventMirrorOptions<TAbi extends Abi, TName extends ContractEventName<TAbi>, Tx> {
  /** The stream's name: its cursor's key (e.g. the contract's name). */
  name: string;
  client: PublicClient;
  address: Address;
  abi: TAbi;
  /** Only these events reach `apply` (default: every event of the ABI). */
  eventNames?: readonly TName[];
  /** The first block to mirror (the deployment's block). If the chain loses it, the mirror throws CHAIN_MISMATCH. */
  start: MirrorBlock;
  store: MirrorStore<Tx>;
  /** Applies one batch of logs, in block and log order, inside the batch's transaction. Must be deterministic. */
  apply(tx: Tx, logs: readonly MirrorLog<TAbi, TName>[]): Promise<void>;
  /** Undoes, inside `tx`, every effect of the logs of blocks above `r.ancestor` (see MirrorRollback). */
  rollback(tx: Tx, r: MirrorRollback): Promise<void>;
  /** Blocks per getLogs request (default 5000). */
  maxRange?: bigint;
  /** How many applied blocks' hashes to remember for finding a common ancestor (default 128). */
  keep?: number;
  log?: Logger;
}

export interface MirrorStatus {
  name: string;
  /** The first block the mirror reads. */
  start: bigint;
  /** The last applied block and its hash; null before the first batch. */
  block: bigint | null;
  hash: Hex | null;
}

export interface EventMirror {
  readonly name: string;
  /** Mirrors every log up to the chain's head (rolling back first if the chain reorganized); returns how many it applied. Concurrent calls share one pass. */
  sync(): Promise<number>;
  /** Where the mirror stands, from the store only (no chain call). */
  status(): Promise<MirrorStatus>;
}

/** The block a deployment's mirrors start at. */
export function deploymentStart(deployment: Deployment): MirrorBlock {
  return { number: BigInt(deployment.block), hash: deployment.blockHash };
}

/** A deployed contract's event stream: named after the contract (its cursor's key), from the deployment block. */
export function contractStream<const TAbi extends Abi>(deployment: Deployment, contract: ContractName, abi: TAbi) {
  return { name: contract, address: deployment.contracts[contract], abi, start: deploymentStart(deployment) };
}

/** `apply` for a domain that handles one log at a time, in order. */
export function eachLog<Tx, L>(handle: (tx: Tx, log: L) => Promise<void>) {
  return async (tx: Tx, logs: readonly L[]): Promise<void> => {
    for (const l of logs) await handle(tx, l);
  };
}

/** The chain changed under a pass (a block's hash moved between two reads): the step is retried. */
class ChainMoved extends Error {}

const MAX_RETRIES = 5;

export function createEventMirror<
  const TAbi extends Abi,
  TName extends ContractEventName<TAbi> = ContractEventName<TAbi>,
  Tx = unknown,
>(o: EventMirrorOptions<TAbi, TName, Tx>): EventMirror {
  const range = o.maxRange ?? 5_000n;
  const keep = o.keep ?? 128;
  const log = o.log ?? silentLogger();
  const wanted = o.eventNames ? new Set<string>(o.eventNames) : undefined;
  const isWanted = (l: AnyLog<TAbi>): l is MirrorLog<TAbi, TName> => !wanted || wanted.has(l.eventName);
  let running: Promise<number> | undefined;

  /** The hash of block `n` on the chain now; undefined past the head. */
  async function hashAt(n: bigint): Promise<Hex | undefined> {
    try {
      return (await o.client.getBlock({ blockNumber: n })).hash;
    } catch (e) {
      if (e instanceof BlockNotFoundError) return undefined;
      throw e;
    }
  }

  const onChain = async (b: MirrorBlock) => (await hashAt(b.number)) === b.hash;

  async function logsIn(from: bigint, to: bigint): Promise<MirrorLog<TAbi, TName>[]> {
    const logs = await o.client.getContractEvents({
      address: o.address,
      abi: o.abi,
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
    return logs.filter(isWanted);
  }

  async function replay(tx: Tx, to: bigint): Promise<number> {
    let applied = 0;
    for (let from = o.start.number; from <= to; from += range) {
      const logs = await logsIn(from, from + range - 1n < to ? from + range - 1n : to);
      if (logs.length > 0) await o.apply(tx, logs);
      applied += logs.length;
    }
    return applied;
  }

  /** The newest of `blocks` (newest first) the chain still has: the hashes agree up to some block, then differ. */
  async function newestOnChain(blocks: readonly MirrorBlock[]): Promise<MirrorBlock | undefined> {
    let lo = 0;
    let hi = blocks.length - 1;
    let found: MirrorBlock | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = blocks[mid];
      if (b === undefined) break;
      if (await onChain(b)) {
        found = b;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found;
  }

  async function rollBack(blocks: readonly { number: bigint; hash: Hex | null }[]): Promise<void> {
    const known = blocks.filter((b): b is MirrorBlock => b.hash !== null);
    const ancestor = (await newestOnChain(known)) ?? ((await onChain(o.start)) ? o.start : undefined);
    if (!ancestor) {
      throw new BaseError(
        'CHAIN_MISMATCH',
        `The chain no longer has block ${o.start.number} (${o.start.hash}) where the ${o.name} mirror starts: the deployment is gone (the chain was reset, or this is another chain). Use a new --data-dir, or restore the chain`,
        { details: { stream: o.name, block: o.start.number.toString(), hash: o.start.hash } },
      );
    }
    log.warn(
      { stream: o.name, cursor: blocks[0]?.number, ancestor: ancestor.number },
      'the chain replaced or lost mirrored blocks: rolling back to the newest block it shares with the mirror',
    );
    await o.store.transaction(async (tx) => {
      await o.rollback(tx, { ancestor: ancestor.number, replay: () => replay(tx, ancestor.number) });
      // What was replayed must come from a chain that still has the ancestor.
      if (!(await onChain(ancestor))) throw new ChainMoved();
      await o.store.rewind(tx, ancestor);
    });
  }

  /** One step: a rollback, or one batch applied (returns its size), or 'done' at the head. */
  async function step(): Promise<number | 'done'> {
    const head = await o.client.getBlockNumber({ cacheTime: 0 });
    const blocks = await o.store.blocks();
    const cursor = blocks[0];
    if (cursor) {
      const hash = await hashAt(cursor.number);
      if (cursor.hash === null && hash !== undefined) {
        // A cursor from before hashes were kept: take the chain's word for it.
        await o.store.transaction((tx) => o.store.advance(tx, { number: cursor.number, hash }, keep));
        return 0;
      }
      if (hash !== cursor.hash) {
        await rollBack(blocks);
        return 0;
      }
    }
    const from = cursor ? cursor.number + 1n : o.start.number;
    if (from > head) return 'done';
    const to = from + range - 1n < head ? from + range - 1n : head;
    const top = await hashAt(to);
    if (top === undefined) throw new ChainMoved();
    const logs = await logsIn(from, to);
    // The batch must come from one chain that holds both the cursor and `to` (nothing moved while it was read).
    if (logs.some((l) => l.blockNumber === to && l.blockHash !== top)) throw new ChainMoved();
    if ((await hashAt(to)) !== top) throw new ChainMoved();
    if (cursor && (await hashAt(cursor.number)) !== cursor.hash) throw new ChainMoved();
    await o.store.transaction(async (tx) => {
      const [now] = await o.store.blocks(tx);
      if (now?.number !== cursor?.number || now?.hash !== cursor?.hash) throw new ChainMoved(); // another writer
      if (logs.length > 0) await o.apply(tx, logs);
      await o.store.advance(tx, { number: to, hash: top }, keep);
    });
    return logs.length;
  }

  async function pass(): Promise<number> {
    let applied = 0;
    let retries = 0;
    for (;;) {
      let n: number | 'done';
      try {
        n = await step();
      } catch (e) {
        if (!(e instanceof ChainMoved)) throw e;
        if (++retries > MAX_RETRIES) {
          throw new BaseError(
            'CHAIN_UNAVAILABLE',
            `The chain kept changing while the ${o.name} mirror read it (${MAX_RETRIES} tries); try again`,
            { details: { stream: o.name } },
          );
        }
        continue;
      }
      if (n === 'done') return applied;
      applied += n;
      retries = 0;
    }
  }

  return {
    name: o.name,
    sync() {
      running ??= pass().finally(() => {
        running = undefined;
      });
      return running;
    },
    async status() {
      const [cursor] = await o.store.blocks();
      return { name: o.name, start: o.start.number, block: cursor?.number ?? null, hash: cursor?.hash ?? null };
    },
  };
}
