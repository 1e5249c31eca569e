/**
 * An auditor of a node's attributions, using nothing but its public API: for a served request, the stored
 * AttributionResult (and the hash its receipt signed), the DataNet version's export, and — for the gradient
 * method — the model's training receipt with the adapter and gradient index it names. The attribution runtime
 * recomputes from these exactly as the node did, so the bytes are the same, or the audit says where they differ.
 * The demo's attribution stage and `tributary attribute --verify` use it.
 */
import {
  type AttributionCache,
  type AttributionResult,
  type CorpusRow,
  createAttributionCache,
  createAttributionRuntime,
  gradientScorerFromReceipt,
  serializeAttribution,
} from '../attribution/index.js';
import { BaseError } from '../core/index.js';
import {
  createNodeClient,
  datanetsApi,
  type NodeClient,
  nodeApi,
  openloraApi,
  settlementApi,
} from '../protocol/index.js';

export interface AuditInput {
  requestId: string;
  /** The prompt the model read (for chat, `formatChat` of the messages). */
  prompt: string;
  output: string;
  /** The model's training receipt (default: the registered model's latest, if its adapter is the receipt's). */
  trainingReceipt?: string;
}

export interface AuditResult {
  requestId: string;
  /** The stored result's hash equals the one the node signed in the receipt. */
  matchesReceipt: boolean;
  /** Recomputed from public data, byte for byte the stored result. */
  matches: boolean;
  stored: AttributionResult;
  recomputed: AttributionResult;
  /** Where the canonical JSON first differs (−1 if it does not). */
  firstDifference: number;
}

/** `GET /v1/blobs/:cid` of a node: the bytes, or null when it does not hold them. */
const blobReader = (node: NodeClient) => async (cid: string) => {
  try {
    return new Uint8Array(await (await node.open(nodeApi.getBlob, { params: { cid } })).arrayBuffer());
  } catch (e) {
    if (e instanceof BaseError && e.code === 'NOT_FOUND') return null;
    throw e;
  }
};

/**
 * The gradient scorer of a served model, from its training receipt and the blobs it names on a node (the caller
 * disposes it). `cache` gives the base model (default: the bundled one, read for this call).
 */
export async function gradientScorerFromNode(
  apiUrl: string,
  receiptCid: string,
  rows: readonly CorpusRow[],
  cache: AttributionCache = createAttributionCache(),
) {
  const scorer = await gradientScorerFromReceipt(receiptCid, blobReader(createNodeClient(apiUrl)), cache.base(), rows);
  if (!scorer)
    throw new BaseError('NOT_FOUND', `Training receipt ${receiptCid} is not on ${apiUrl} or names no gradient index`, {
      details: { field: '--training-receipt', receiptCid },
    });
  return scorer;
}

/** An auditor of the node at `apiUrl`; `cache` holds what it builds (default: its own). */
export function createAttributionAudit(apiUrl: string, cache: AttributionCache = createAttributionCache()) {
  const api = createNodeClient(apiUrl);
  const runtime = createAttributionRuntime({
    cache,
    readExport: async (dataNet) =>
      (
        await api.open(datanetsApi.exportVersion, { params: { id: BigInt(dataNet.id), version: dataNet.version } })
      ).text(),
    readBlob: blobReader(api),
    blobSource: api.baseUrl,
  });

  /** The training receipt of the model version that served `requestId` (its adapter must be the latest's). */
  async function trainingReceiptOf(requestId: string): Promise<string> {
    const receipt = await api.call(settlementApi.getReceipt, { params: { id: requestId } });
    const model = await api.call(openloraApi.getRegisteredModel, { params: { model: receipt.model } });
    if (model.latest.adapterHash.toLowerCase() !== receipt.signed.adapterHash.toLowerCase())
      throw new BaseError(
        'CONFLICT',
        `Model ${receipt.model} has a newer version than the one that served ${requestId}: pass that version's --training-receipt`,
        { details: { requestId, servedAdapter: receipt.signed.adapterHash, latestAdapter: model.latest.adapterHash } },
      );
    return model.latest.receiptCid;
  }

  return {
    async verify(input: AuditInput): Promise<AuditResult> {
      const served = await api.call(settlementApi.getAttribution, { params: { requestId: input.requestId } });
      const stored = served.attribution;
      if (!stored.dataNet)
        throw new BaseError(
          'CONFLICT',
          `The attribution of ${input.requestId} names no DataNet version to recompute from`,
          {
            details: { requestId: input.requestId },
          },
        );
      const receiptCid = stored.methods.includes('gradient')
        ? (input.trainingReceipt ?? (await trainingReceiptOf(input.requestId)))
        : undefined;
      const recomputed = await runtime.attribute({
        dataNet: stored.dataNet,
        prompt: input.prompt,
        output: input.output,
        methods: stored.methods,
        ...(receiptCid ? { receiptCid } : {}),
      });
      const [a, b] = [serializeAttribution(stored), serializeAttribution(recomputed)];
      const firstDifference = a === b ? -1 : [...a].findIndex((c, i) => c !== b[i]);
      return {
        requestId: input.requestId,
        matchesReceipt: served.matchesReceipt,
        matches: a === b,
        stored,
        recomputed,
        firstDifference,
      };
    },
    /** Frees the gradient scorers' buffers. */
    dispose: () => cache.dispose(),
  };
}
