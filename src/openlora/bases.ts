/**
 * OpenLoRA groups adapters per base model: each base a node serves is loaded once in llama.cpp, with its own adapter
 * cache and scheduler, and every adapter trained on it (by the hash its registry entry records) is served from that
 * copy. The node's main base is loaded at start; other bases (registered with `tributary model base add`) are loaded
 * on their first request, and a base that fails to load is retried on the next one.
 */
import type { Hex } from 'viem';
import { BaseError, type Logger } from '../core/index.js';
import type { LlamaRuntime } from '../engine/index.js';
import type { ServedModel } from '../protocol/index.js';
import type { BlobStore } from '../store/index.js';
import { createAdapterCache } from './adapters.js';
import { createScheduler } from './scheduler.js';

export interface ServedBase {
  name: string;
  sha256: Hex;
}

/** The other base models a node serves: cheap to list, loaded into llama.cpp only when first asked for. */
export interface OtherBases {
  list(): Promise<ServedBase[]>;
  open(base: ServedBase): Promise<LlamaRuntime>;
}

export interface GroupSettings {
  blobs: BlobStore;
  budgetBytes: number;
  contextBytes?: number | undefined;
  sequencesPerContext: number;
  maxActive: number;
  maxQueue: number;
  timeoutMs: number;
  log: Logger;
}

function createGroup(base: ServedBase, runtime: LlamaRuntime, s: GroupSettings) {
  const cache = createAdapterCache({
    runtime,
    blobs: s.blobs,
    budgetBytes: s.budgetBytes,
    sequencesPerContext: s.sequencesPerContext,
    ...(s.contextBytes === undefined ? {} : { contextBytes: s.contextBytes }),
    log: s.log,
  });
  const scheduler = createScheduler({
    cache,
    maxActive: s.maxActive,
    perAdapter: s.sequencesPerContext,
    maxQueue: s.maxQueue,
    defaultTimeoutMs: s.timeoutMs,
    log: s.log,
  });
  return { base, runtime, cache, scheduler, model: baseAsModel(base) };
}

/** A base model as a client asks for it: by its name, free, without an adapter. */
export const baseAsModel = (base: ServedBase): ServedModel => ({
  id: base.name,
  name: base.name,
  modelId: null,
  adapterHash: null,
  record: null,
});

export type BaseGroup = ReturnType<typeof createGroup>;

/** Bases are keyed by their hash, whatever its case. */
export const baseKey = (sha256: string) => sha256.toLowerCase();

export function createBaseGroups(
  main: { base: ServedBase; runtime: LlamaRuntime },
  others: OtherBases | undefined,
  s: GroupSettings,
) {
  const primary = createGroup(main.base, main.runtime, s);
  const groups = new Map<string, Promise<BaseGroup>>([[baseKey(main.base.sha256), Promise.resolve(primary)]]);
  // Runtimes this pool opened (the main one belongs to the caller).
  const opened: LlamaRuntime[] = [];
  const ready: BaseGroup[] = [primary];

  /** Every base served here: the main one first. */
  async function list(): Promise<ServedBase[]> {
    const rest = others ? await others.list() : [];
    return [main.base, ...rest.filter((b) => baseKey(b.sha256) !== baseKey(main.base.sha256))];
  }

  /** The group of a served base, loading its model on first use (a failed load is forgotten, so it is retried). */
  function group(base: ServedBase): Promise<BaseGroup> {
    const k = baseKey(base.sha256);
    let g = groups.get(k);
    if (!g) {
      if (!others)
        throw new BaseError('NOT_FOUND', `Base model ${base.name} is not served here`, {
          details: { base: base.name },
        });
      const loading = others.open(base).then((runtime) => {
        opened.push(runtime);
        s.log.info({ base: base.name, sha256: base.sha256 }, 'base model loaded for serving');
        const loaded = createGroup(base, runtime, s);
        ready.push(loaded);
        return loaded;
      });
      loading.catch(() => groups.delete(k));
      groups.set(k, loading);
      g = loading;
    }
    return g;
  }

  return {
    primary,
    list,
    group,
    /** The groups loaded so far, the main one first. */
    loaded: (): readonly BaseGroup[] => ready,
    async close(): Promise<void> {
      await Promise.allSettled(groups.values());
      for (const g of ready) await g.cache.close();
      for (const r of opened) await r.dispose();
    },
  };
}

export type BaseGroups = ReturnType<typeof createBaseGroups>;
