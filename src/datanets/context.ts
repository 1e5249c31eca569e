import type { Address } from 'viem';
import type { ChainClients, Deployment } from '../chain/index.js';
import type { Logger } from '../core/index.js';
import type { BlobStore, Db } from '../store/index.js';
import type { DataNetDomain } from './signatures.js';

/** What the DataNet service works with; built once per node. */
export interface DataNetContext {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  blobs: BlobStore;
  log: Logger;
  /** Unix seconds; injectable for tests. */
  now(): bigint;
}

export const registryOf = (ctx: DataNetContext): Address => ctx.deployment.contracts.DataNetRegistry;

export const domainOf = (ctx: DataNetContext): DataNetDomain => ({
  chainId: ctx.deployment.chainId,
  registry: registryOf(ctx),
});

/** Serializes async work per key (one ingest or publication at a time per DataNet within this node). */
export function keyedMutex() {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
