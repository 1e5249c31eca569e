/**
 * The base models this node serves besides its bundled one: every base its operator registered (`model base add`),
 * read by llama.cpp straight from the blob store's file when a model on it is first asked for (on a GPU when the
 * node's `gpu` setting is `auto` and the machine has one).
 */
import { BaseError } from '../core/index.js';
import { createLlamaRuntime } from '../engine/index.js';
import type { FactoryService } from '../factory/index.js';
import type { OtherBases } from '../openlora/index.js';
import type { BlobStore } from '../store/index.js';

/** Serving context for a registered base: its trained context, capped so a KV cache stays small on a CPU node. */
export const MAX_SERVING_CONTEXT = 2048;

export function registeredBases(factory: FactoryService, blobs: BlobStore, gpu: 'auto' | 'off'): OtherBases {
  const registered = async () => (await factory.baseModels()).filter((b) => !b.bundled);
  return {
    list: async () => (await registered()).map((b) => ({ name: b.name, sha256: b.sha256 })),
    async open(base) {
      const info = (await registered()).find((b) => b.sha256.toLowerCase() === base.sha256.toLowerCase());
      const path = info && blobs.localPath?.(info.cid);
      if (!info || !path) {
        throw new BaseError('NOT_FOUND', `Base model ${base.name} is not in this node's blob store`, {
          details: { base: base.name, sha256: base.sha256 },
        });
      }
      return createLlamaRuntime({
        modelPath: path,
        threads: 1,
        contextSize: Math.min(info.config.contextLength, MAX_SERVING_CONTEXT),
        gpu,
      });
    },
  };
}
