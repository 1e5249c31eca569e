/**
 * An auditor of a node's attributions, using nothing but its public API: for a served request, the stored
 * AttributionResult (and the hash its receipt signed), the DataNet version's export, and — for the gradient
 * method — the model's training receipt with the adapter and gradient index it names. Recomputing gives the same
 * bytes, or the audit says where they differ. The demo's attribution stage and `tributary attribute --verify` use it.
 */
import { readFileSync } from 'node:fs';
import type { Hex } from 'viem';
import {
  type AttributionResult,
  type CorpusAttributor,
  type CorpusRow,
  createCorpusAttributor,
  type GradientArtifacts,
  gradientScorerFromReceipt,
  serializeAttribution,
  spanTokenizerOf,
} from '../attribution/index.js';
import { BaseError, createApiClient } from '../core/index.js';
import { baseModelFromGguf, bundledBaseModel } from '../engine/index.js';

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

let base: GradientArtifacts['base'] | undefined;
/** The served base model, read once per process: gradients need its weights, span tokens its vocabulary. */
const bundled = () => (base ??= baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))));

/** The gradient scorer of a served model, from its training receipt and the blobs it names on a node. */
export async function gradientScorerFromNode(apiUrl: string, receiptCid: string, rows: readonly CorpusRow[]) {
  const readBlob = async (cid: string) => {
    const res = await fetch(`${apiUrl}/v1/blobs/${encodeURIComponent(cid)}`);
    return res.ok ? new Uint8Array(await res.arrayBuffer()) : null;
  };
  const scorer = await gradientScorerFromReceipt(receiptCid, readBlob, bundled(), rows);
  if (!scorer)
    throw new BaseError('NOT_FOUND', `Training receipt ${receiptCid} is not on ${apiUrl} or names no gradient index`, {
      details: { field: '--training-receipt', receiptCid },
    });
  return scorer;
}

export function createAttributionAudit(apiUrl: string) {
  const api = createApiClient(apiUrl);
  const corpora = new Map<string, Promise<CorpusAttributor>>();
  const scorers = new Map<string, ReturnType<typeof gradientScorerFromNode>>();

  function corpusOf(dataNet: NonNullable<AttributionResult['dataNet']>): Promise<CorpusAttributor> {
    const key = `${dataNet.id}:${dataNet.version}`;
    let c = corpora.get(key);
    if (!c) {
      c = (async () => {
        const res = await api.raw('GET', `/v1/datanets/${dataNet.id}/versions/${dataNet.version}/export`);
        const rows: CorpusRow[] = (await res.text())
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => {
            const r = JSON.parse(l) as CorpusRow;
            return { id: r.id, contributor: r.contributor, text: r.text };
          });
        return createCorpusAttributor({ rows, tokenizer: spanTokenizerOf(bundled().vocab), dataNet });
      })();
      corpora.set(key, c);
    }
    return c;
  }

  async function trainingReceiptOf(requestId: string): Promise<string> {
    const receipt = await api.request<{ model: string; signed: { adapterHash: Hex } }>(
      'GET',
      `/v1/receipts/${encodeURIComponent(requestId)}`,
    );
    const model = await api.request<{ latest: { adapterHash: Hex; receiptCid: string } }>(
      'GET',
      `/v1/registry/models/${encodeURIComponent(receipt.model)}`,
    );
    if (model.latest.adapterHash.toLowerCase() !== receipt.signed.adapterHash.toLowerCase())
      throw new BaseError(
        'CONFLICT',
        `Model ${receipt.model} has a newer version than the one that served ${requestId}: pass that version's --training-receipt`,
        { details: { requestId, servedAdapter: receipt.signed.adapterHash, latestAdapter: model.latest.adapterHash } },
      );
    return model.latest.receiptCid;
  }

  function scorerOf(receiptCid: string, rows: readonly CorpusRow[]) {
    let s = scorers.get(receiptCid);
    if (!s) {
      s = gradientScorerFromNode(api.baseUrl, receiptCid, rows);
      scorers.set(receiptCid, s);
    }
    return s;
  }

  return {
    async verify(input: AuditInput): Promise<AuditResult> {
      const served = await api.request<{ attribution: AttributionResult; matchesReceipt: boolean }>(
        'GET',
        `/v1/attributions/${encodeURIComponent(input.requestId)}`,
      );
      const stored = served.attribution;
      if (!stored.dataNet)
        throw new BaseError(
          'CONFLICT',
          `The attribution of ${input.requestId} names no DataNet version to recompute from`,
          {
            details: { requestId: input.requestId },
          },
        );
      const corpus = await corpusOf(stored.dataNet);
      const gradient = stored.methods.includes('gradient')
        ? await scorerOf(input.trainingReceipt ?? (await trainingReceiptOf(input.requestId)), corpus.rows)
        : undefined;
      const recomputed = await corpus.attribute({
        prompt: input.prompt,
        output: input.output,
        methods: stored.methods,
        ...(gradient ? { gradient: gradient.score } : {}),
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
    async dispose(): Promise<void> {
      for (const s of scorers.values()) (await s.catch(() => null))?.dispose();
    },
  };
}
