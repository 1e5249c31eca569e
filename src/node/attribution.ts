/**
 * Proof of Attribution on the node: wiring only. Each paid answer of a model trained on a DataNet version is
 * attributed against that version's contributions by the attribution runtime (src/attribution/runtime.ts), reading
 * the version's export and the model's training receipt from this node's own store — the same public artifacts an
 * auditor reads through the API, so anyone can recompute the result with `tributary attribute`. Span indexes are
 * kept on disk under `<dataDir>/indexes/`.
 */
import { join } from 'node:path';
import {
  type AttributionResult,
  createAttributionCache,
  createAttributionRuntime,
  type VersionRef,
} from '../attribution/index.js';
import type { Logger } from '../core/index.js';
import type { DataNetService } from '../datanets/index.js';
import type { PayableModel } from '../settlement/index.js';
import type { BlobStore } from '../store/index.js';

/** The DataNet version a model was trained on; null without lineage (nothing to attribute to). */
function lineageOf(model: PayableModel): VersionRef | null {
  const l = model.record?.latest;
  if (!l?.dataNetId || l.dataNetVersion === null || !l.dataNetRoot) return null;
  return { id: l.dataNetId.toString(), version: l.dataNetVersion, root: l.dataNetRoot };
}

/** The training receipt the model's registry entry names, if any. */
function receiptCidOf(model: PayableModel): string | undefined {
  const l = model.record?.latest;
  return l && 'receiptCid' in l && typeof l.receiptCid === 'string' && l.receiptCid !== '' ? l.receiptCid : undefined;
}

export function createNodeAttribution(deps: {
  datanets: DataNetService;
  blobs: BlobStore;
  dataDir: string;
  log: Logger;
}) {
  const runtime = createAttributionRuntime({
    cache: createAttributionCache({ maxVersions: 16 }),
    async readExport(dataNet) {
      let text = '';
      for await (const line of deps.datanets.exportVersion(BigInt(dataNet.id), dataNet.version)) text += line;
      return text;
    },
    readBlob: (cid) => deps.blobs.get(cid),
    indexDir: join(deps.dataDir, 'indexes'),
    log: deps.log,
  });

  return {
    /**
     * The settlement hook: null when the model has no DataNet lineage (nothing to attribute to). `retrieval`: the
     * prompt begins with passages retrieved from the DataNet, so RAG evidence may credit them.
     */
    async attribute(r: {
      model: PayableModel;
      prompt: string;
      output: string;
      retrieval: boolean;
    }): Promise<AttributionResult | null> {
      const dataNet = lineageOf(r.model);
      if (!dataNet) return null;
      const receiptCid = receiptCidOf(r.model);
      return runtime.attribute({
        dataNet,
        prompt: r.prompt,
        output: r.output,
        retrieval: r.retrieval,
        ...(receiptCid ? { receiptCid } : {}),
      });
    },
    /** Retrieval for a model served with it: the best passages of its DataNet version for `query`. */
    async retrieve(r: { model: PayableModel; query: string; topK: number }) {
      const dataNet = lineageOf(r.model);
      return dataNet ? runtime.retrieve(dataNet, r.query, r.topK) : null;
    },
  };
}
