/**
 * Loaded adapters and their serving contexts, under a memory budget. An adapter is named by the sha-256 its
 * ModelRegistry entry records; it is fetched from the blob store just in time, its bytes re-hashed (the blob
 * store refuses bytes that no longer match), and only then given to llama.cpp. Idle adapters are evicted least
 * recently used first (pinned ones never), which disposes their context and frees their weights. Concurrent
 * requests for a cold adapter share one load.
 */
import { isHex } from 'viem';
import { BaseError, cidFromSha256, type Logger, silentLogger } from '../core/index.js';
import type { LlamaRuntime, ServingContext } from '../engine/index.js';
import type { BlobStore } from '../store/index.js';

/** The base model itself, served without an adapter. */
export const BASE = 'base';

export interface AdapterLease {
  ctx: ServingContext;
  /** Whether this acquisition had to load the adapter. */
  cold: boolean;
  loadMs: number;
  release(): void;
}

export interface AdapterStatus {
  key: string;
  pinned: boolean;
  users: number;
  memoryBytes: number;
  lastUsedAt: number;
  hits: number;
}

interface Entry {
  key: string;
  ctx: ServingContext;
  memoryBytes: number;
  users: number;
  pinned: boolean;
  lastUsedAt: number;
  hits: number;
}

export interface AdapterCacheOptions {
  runtime: LlamaRuntime;
  blobs: BlobStore;
  /** Memory for loaded adapters and their contexts, in bytes. */
  budgetBytes: number;
  /** Parallel sequences per context (requests for one adapter decoded together). */
  sequencesPerContext: number;
  /**
   * Memory one loaded context costs besides its adapter's weights (KV cache, compute and output buffers), in
   * bytes. The runtime's own figure is the size of the context's saved state, which is near zero for an idle
   * context, so the budget counts the larger of the two; without this, the budget bounded the adapters' file
   * sizes only and 1,000 cold adapters grew the process past 3 GB. Default: DEFAULT_CONTEXT_BYTES.
   */
  contextBytes?: number;
  log?: Logger;
}

/**
 * A context's footprint on the bundled base (4 sequences of 128 tokens, one thread), measured as the process's
 * resident growth per context: about 5 MB, plus ~0.14 MB for every adapter loaded at the time (llama.cpp sizes a
 * new context's graph for the tensors of the model and of all its loaded adapters), so ~10 MB each when 40 are
 * resident. Bases with a larger KV cache or vocabulary need a larger figure.
 */
export const DEFAULT_CONTEXT_BYTES = 12 * 1024 * 1024;

export function createAdapterCache(o: AdapterCacheOptions) {
  const log = o.log ?? silentLogger();
  const entries = new Map<string, Entry>();
  const loading = new Map<string, Promise<Entry>>();
  const pins = new Set<string>([BASE]);
  const stats = { hits: 0, misses: 0, evictions: 0, loadFailures: 0 };
  const contextBytes = o.contextBytes ?? DEFAULT_CONTEXT_BYTES;

  const used = () => [...entries.values()].reduce((s, e) => s + e.memoryBytes, 0);

  /** Disposes idle, unpinned entries, least recently used first, until `needed` more bytes fit. */
  async function makeRoom(needed: number): Promise<void> {
    const idle = [...entries.values()]
      .filter((e) => e.users === 0 && !e.pinned)
      .sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const e of idle) {
      if (used() + needed <= o.budgetBytes) return;
      await evictEntry(e);
    }
  }

  async function evictEntry(e: Entry): Promise<void> {
    entries.delete(e.key);
    stats.evictions++;
    await e.ctx.dispose();
    log.debug({ adapter: e.key }, 'adapter evicted');
  }

  async function load(key: string): Promise<Entry> {
    let adapters: { path: string }[] = [];
    let fileBytes = 0;
    if (key !== BASE) {
      if (!isHex(key))
        throw new BaseError('INVALID_ARGUMENT', `Adapter ${key} is not an adapter hash`, {
          details: { adapterHash: key },
        });
      const cid = cidFromSha256(key);
      let bytes: Uint8Array | undefined;
      try {
        bytes = await o.blobs.get(cid);
      } catch (e) {
        throw new BaseError(
          'ADAPTER_INVALID',
          `Adapter ${key} on this node does not match its registered hash; it will not be loaded`,
          {
            details: { adapterHash: key, cid },
            cause: e,
          },
        );
      }
      const path = o.blobs.localPath?.(cid);
      if (!bytes || !path) {
        throw new BaseError('ADAPTER_UNAVAILABLE', `Adapter ${key} is not stored on this node (blob ${cid})`, {
          details: { adapterHash: key, cid },
        });
      }
      adapters = [{ path }];
      fileBytes = bytes.length;
    }
    // Make room first, so the new context never comes on top of a full budget.
    await makeRoom(fileBytes + contextBytes);
    const ctx = await o.runtime.openContext({ adapters, sequences: o.sequencesPerContext });
    const entry: Entry = {
      key,
      ctx,
      memoryBytes: Math.max(ctx.memoryBytes, contextBytes) + fileBytes,
      users: 0,
      pinned: pins.has(key),
      lastUsedAt: Date.now(),
      hits: 0,
    };
    entries.set(key, entry);
    if (used() > o.budgetBytes) await makeRoom(0);
    return entry;
  }

  return {
    /** A context with `key`'s adapter (or BASE), loading it if needed; release it when done. */
    async acquire(key: string): Promise<AdapterLease> {
      let entry = entries.get(key);
      let cold = false;
      let loadMs = 0;
      if (entry) stats.hits++;
      else {
        stats.misses++;
        cold = true;
        const started = performance.now();
        let pending = loading.get(key);
        if (!pending) {
          pending = load(key).finally(() => loading.delete(key));
          loading.set(key, pending);
        }
        try {
          entry = await pending;
        } catch (e) {
          stats.loadFailures++;
          throw e;
        }
        loadMs = performance.now() - started;
      }
      const e = entry;
      e.users++;
      e.hits++;
      e.lastUsedAt = Date.now();
      let released = false;
      return {
        ctx: e.ctx,
        cold,
        loadMs,
        release: () => {
          if (released) return;
          released = true;
          e.users--;
          e.lastUsedAt = Date.now();
          if (e.users === 0 && used() > o.budgetBytes) void makeRoom(0);
        },
      };
    },
    pin(key: string): void {
      pins.add(key);
      const e = entries.get(key);
      if (e) e.pinned = true;
    },
    unpin(key: string): void {
      if (key === BASE) return;
      pins.delete(key);
      const e = entries.get(key);
      if (e) e.pinned = false;
    },
    /** Evicts an idle adapter now; false if it is not loaded, in use, or the base. */
    async evict(key: string): Promise<boolean> {
      const e = entries.get(key);
      if (!e || e.users > 0 || key === BASE) return false;
      await evictEntry(e);
      return true;
    },
    list(): AdapterStatus[] {
      return [...entries.values()]
        .map((e) => ({
          key: e.key,
          pinned: e.pinned,
          users: e.users,
          memoryBytes: e.memoryBytes,
          lastUsedAt: e.lastUsedAt,
          hits: e.hits,
        }))
        .sort((a, b) => b.lastUsedAt - a.lastUsedAt);
    },
    isPinned: (key: string) => pins.has(key),
    stats,
    usedBytes: used,
    async close(): Promise<void> {
      for (const e of [...entries.values()]) await e.ctx.dispose();
      entries.clear();
    },
  };
}

export type AdapterCache = ReturnType<typeof createAdapterCache>;
