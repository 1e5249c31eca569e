/**
 * An auditor of a node's attributions, trusting nothing the node says that it can check. For a served request it
 * reads the node-signed receipt and the stored AttributionResult, and checks, each separately and by name:
 * - the receipt: its signature is the node's for this chain and distributor, and it signed the stored result's hash;
 * - the output it is given hashes to the signed `outputHash`, and the exact request (when given) to `requestHash`;
 * - the DataNet version's export is the version committed on chain: every row's leaf from its own data, the live
 *   rows' content and text, the root and count as DataNetRegistry holds them (withdrawn rows stay in the export);
 * - the result's `corpusHash` is the row set the version had when the answer was served — its live rows then; an
 *   answer served before a withdrawal was attributed with the withdrawn row, whose text the export no longer has:
 *   given an export kept from then (its rows checked against their leaves) it is recomputed, otherwise the audit
 *   says it could not recompute it and why;
 * - the prompt the model read is rebuilt as the node built it (chat template, retrieval passages recomputed from
 *   that row set), and the attribution recomputed from public data to the same bytes.
 * The demo's attribution stage and `tributary attribute --verify` use it.
 */
import type { Hex } from 'viem';
import {
  type AttributionCache,
  type AttributionResult,
  attributionHash,
  type CorpusRow,
  corpusHashOf,
  createAttributionCache,
  createAttributionRuntime,
  gradientScorerFromReceipt,
  serializeAttribution,
  servedAttributionMethods,
} from '../attribution/index.js';
import { BaseError, keccak256 } from '../core/index.js';
import { checkPinnedExport, withdrawnTextsFrom } from '../datanets/index.js';
import { createTokenizer } from '../engine/index.js';
import {
  createNodeClient,
  datanetsApi,
  inArrivalOrder,
  type NodeClient,
  type NodeReceipt,
  nodeApi,
  openloraApi,
  parsePinnedExport,
  parseVersionExport,
  settlementApi,
  type VersionExportLine,
} from '../protocol/index.js';
import { requestHashOf, verifyReceipt } from '../settlement/index.js';
import { type AskedRequest, rebuildRequest, servedPrompt } from './audit-request.js';

export interface AuditInput extends AskedRequest {
  requestId: string;
  output: string;
  /** The model's training receipt (default: the registered model's latest, if its adapter is the receipt's). */
  trainingReceipt?: string;
  /** A copy of the version's export kept from before a withdrawal: the withdrawn rows' content, checked by leaf. */
  keptExport?: string;
}

/** One check: passed, failed, or not made (and why). */
export interface AuditCheck {
  status: 'ok' | 'differs' | 'not checked';
  detail: string;
}

export interface AuditChecks {
  receiptSignature: AuditCheck;
  /** The receipt signed the stored result's hash. */
  signedAttribution: AuditCheck;
  outputHash: AuditCheck;
  requestHash: AuditCheck;
  /** The export is the version committed on chain. */
  versionRoot: AuditCheck;
  /** The result's corpusHash is the version's row set when it was served. */
  corpus: AuditCheck;
  /** Recomputed from public data to the stored bytes. */
  attribution: AuditCheck;
}

export interface AuditResult {
  requestId: string;
  /** The receipt's signature is the node's and it signed the stored result's hash. */
  matchesReceipt: boolean;
  /** Recomputed from public data, byte for byte the stored result. */
  matches: boolean;
  checks: AuditChecks;
  stored: AttributionResult;
  recomputed: AttributionResult | null;
  /** Where the canonical JSON first differs (−1 if it does not, or was not recomputed). */
  firstDifference: number;
}

/** What the auditor reads from the chain; absent, those checks are reported as not made. */
export interface AuditChain {
  /** The receipt domain: chain id and RewardDistributor. */
  receiptDomain: { chainId: number; distributor: Hex };
  /** DataNetRegistry.getVersion. */
  committedVersion(dataNetId: bigint, version: number): Promise<{ root: Hex; count: bigint }>;
}

export interface AuditOptions {
  cache?: AttributionCache;
  chain?: AuditChain;
}

const ok = (detail: string): AuditCheck => ({ status: 'ok', detail });
const differs = (detail: string): AuditCheck => ({ status: 'differs', detail });
const notChecked = (detail: string): AuditCheck => ({ status: 'not checked', detail });
const verdict = (pass: boolean, yes: string, no: string) => (pass ? ok(yes) : differs(no));

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

/**
 * The row sets a version has had since it was published, newest first: its live rows, then each earlier set with
 * the rows withdrawn since put back (in leaf order). A set whose withdrawn text is not known has `missing` ids.
 */
function rowSetsOf(lines: readonly VersionExportLine[], texts: ReadonlyMap<string, string>) {
  const cuts = [...new Set(lines.flatMap((r) => (r.withdrawn ? [r.withdrawnAt.getTime()] : [])))].sort((a, b) => b - a);
  return [Number.POSITIVE_INFINITY, ...cuts].map((cut) => {
    const members = inArrivalOrder(lines.filter((r) => !r.withdrawn || r.withdrawnAt.getTime() >= cut));
    const missing = members.filter((r) => r.withdrawn && !texts.has(r.id)).map((r) => r.id);
    const rows: CorpusRow[] = members.map((r) => ({
      id: r.id,
      contributor: r.contributor,
      text: r.withdrawn ? (texts.get(r.id) ?? '') : r.text,
    }));
    const servedBefore = members.filter((r) => r.withdrawn).map((r) => r.id);
    return { rows, missing, servedBefore };
  });
}

/** An auditor of the node at `apiUrl`; `cache` holds what it builds (default: its own). */
export function createAttributionAudit(apiUrl: string, options: AuditOptions = {}) {
  const api = createNodeClient(apiUrl);
  const cache = options.cache ?? createAttributionCache();
  const exportOf = async (dataNet: { id: string; version: number }) =>
    (
      await api.open(datanetsApi.exportVersion, { params: { id: BigInt(dataNet.id), version: dataNet.version } })
    ).text();
  const runtime = createAttributionRuntime({
    cache,
    readExport: exportOf,
    readBlob: blobReader(api),
    blobSource: api.baseUrl,
  });

  /** The training receipt of the model version that served `receipt` (its adapter must be the latest's). */
  async function trainingReceiptOf(receipt: NodeReceipt): Promise<string> {
    const model = await api.call(openloraApi.getRegisteredModel, { params: { model: receipt.model } });
    if (model.latest.adapterHash.toLowerCase() !== receipt.signed.adapterHash.toLowerCase())
      throw new BaseError(
        'CONFLICT',
        `Model ${receipt.model} has a newer version than the one that served ${receipt.requestId}: pass that version's --training-receipt`,
        {
          details: {
            requestId: receipt.requestId,
            servedAdapter: receipt.signed.adapterHash,
            latestAdapter: model.latest.adapterHash,
          },
        },
      );
    return model.latest.receiptCid;
  }

  /** The receipt's own checks: signature, the stored result's hash, the output's hash. */
  async function receiptChecks(receipt: NodeReceipt, stored: AttributionResult, output: string) {
    const chain = options.chain;
    const signature = chain
      ? verdict(
          await verifyReceipt(chain.receiptDomain, { ...receipt, message: receipt.signed }),
          `signed by the node ${receipt.node} for chain ${chain.receiptDomain.chainId}`,
          `the receipt's id or signature is not the node's ${receipt.node} for chain ${chain.receiptDomain.chainId}`,
        )
      : notChecked('no chain to read the receipt domain from');
    const signedAttribution = verdict(
      attributionHash(stored) === receipt.signed.attributionHash,
      'the receipt signed the stored attribution',
      `the receipt signed ${receipt.signed.attributionHash}, the stored attribution hashes to ${attributionHash(stored)}`,
    );
    const outputHash = verdict(
      keccak256(output) === receipt.signed.outputHash,
      'the output given is the answer the node signed',
      `the output given hashes to ${keccak256(output)}; the node signed ${receipt.signed.outputHash}`,
    );
    return { receiptSignature: signature, signedAttribution, outputHash };
  }

  return {
    async verify(input: AuditInput): Promise<AuditResult> {
      const served = await api.call(settlementApi.getAttribution, { params: { requestId: input.requestId } });
      const receipt = await api.call(settlementApi.getReceipt, { params: { id: input.requestId } });
      const stored = served.attribution;
      const dataNet = stored.dataNet;
      if (!dataNet)
        throw new BaseError(
          'CONFLICT',
          `The attribution of ${input.requestId} names no DataNet version to recompute from`,
          { details: { requestId: input.requestId } },
        );
      const fromReceipt = await receiptChecks(receipt, stored, input.output);
      const matchesReceipt = [fromReceipt.receiptSignature, fromReceipt.signedAttribution].every(
        (c) => c.status !== 'differs',
      );

      // The version: the export pinned to the root on chain (or only read, without a chain).
      const exportName = `DataNet ${dataNet.id} version ${dataNet.version} export`;
      const lines = parsePinnedExport(await exportOf(dataNet), exportName);
      let versionRoot = notChecked('no chain to read the committed root from');
      if (options.chain) {
        const committed = await options.chain.committedVersion(BigInt(dataNet.id), dataNet.version);
        const pinned = checkPinnedExport(lines, {
          dataNetId: BigInt(dataNet.id),
          version: dataNet.version,
          ...committed,
        });
        versionRoot =
          committed.root.toLowerCase() === dataNet.root.toLowerCase()
            ? ok(`${pinned.rows} rows (${pinned.withdrawn} withdrawn) make the root ${pinned.root} committed on chain`)
            : differs(`the attribution names root ${dataNet.root}; the version's root on chain is ${committed.root}`);
      }

      // The row set the answer was served over: the one whose hash the result carries.
      const kept = input.keptExport === undefined ? [] : parseVersionExport(input.keptExport, '--kept-export');
      const texts = withdrawnTextsFrom(lines, kept);
      const sets = rowSetsOf(lines, texts);
      const match = sets.find((s) => s.missing.length === 0 && corpusHashOf(s.rows) === stored.corpusHash);
      const unknown = sets.filter((s) => s.missing.length > 0);
      const corpus = match
        ? ok(
            match.servedBefore.length === 0
              ? `the version's live rows (${match.rows.length})`
              : `the version's rows before the withdrawal of ${match.servedBefore.join(', ')}, their text from the kept export`,
          )
        : unknown.length > 0
          ? notChecked(
              `no row set with known text has the result's corpusHash; it may have been served before the withdrawal of ${unknown.at(-1)?.missing.join(', ')}, whose text is gone: pass an export kept from then (--kept-export)`,
            )
          : differs(`no row set the version has had hashes to the result's corpusHash ${stored.corpusHash}`);

      // What the model read, rebuilt over that row set; without one, only what needs no corpus.
      const retrievalUsed = stored.methods.includes('rag');
      const asked = input.promptTokens
        ? { prompt: createTokenizer(cache.base().vocab).decode(input.promptTokens) }
        : input;
      const rebuilt = rebuildRequest(asked, receipt.model, retrievalUsed);
      const context =
        input.context ??
        (rebuilt.retrieval && match
          ? ((await runtime.retrieve(dataNet, rebuilt.retrieval.query, rebuilt.retrieval.topK, match.rows))?.context ??
            null)
          : null);
      const prompt = servedPrompt(rebuilt, context);
      const retrievalKnown = !rebuilt.retrieval || input.context !== undefined || match !== undefined;
      const rebuiltHash = rebuilt.sampling
        ? requestHashOf({ requestId: input.requestId, model: receipt.model, prompt, ...rebuilt.sampling })
        : null;
      const requestHash = !rebuiltHash
        ? notChecked('the exact request body was not given (--body): the sampling parameters are unknown')
        : !retrievalKnown
          ? notChecked('the retrieved passages cannot be recomputed without the row set the answer was served over')
          : verdict(
              rebuiltHash === receipt.signed.requestHash,
              'the request rebuilt (prompt read, retrieval, sampling) is the one the node signed',
              `the request rebuilt hashes to ${rebuiltHash}; the node signed ${receipt.signed.requestHash}`,
            );

      let recomputed: AttributionResult | null = null;
      let attribution = notChecked(`not recomputed: ${corpus.detail}`);
      let firstDifference = -1;
      if (match) {
        const receiptCid = stored.methods.includes('gradient')
          ? (input.trainingReceipt ?? (await trainingReceiptOf(receipt)))
          : undefined;
        recomputed = await runtime.attribute({
          dataNet,
          prompt,
          output: input.output,
          methods: stored.methods,
          rows: match.rows,
          ...(receiptCid ? { receiptCid } : {}),
        });
        const [a, b] = [serializeAttribution(stored), serializeAttribution(recomputed)];
        firstDifference = a === b ? -1 : [...a].findIndex((c, i) => c !== b[i]);
        attribution = verdict(
          a === b,
          `recomputed byte for byte (${stored.methods.join(', ')})`,
          `recomputed differs from the stored attribution at byte ${firstDifference}`,
        );
        // Recomputed with the node's methods; from the body it is known whether retrieval grounded the prompt.
        const expected = rebuilt.sampling
          ? servedAttributionMethods({ gradient: stored.methods.includes('gradient'), retrieval: context !== null })
          : stored.methods;
        if (expected.join() !== stored.methods.join())
          attribution = differs(
            `the node attributed by ${stored.methods.join(', ')}; an answer served ${context === null ? 'without' : 'with'} retrieval is attributed by ${expected.join(', ')}`,
          );
      }
      return {
        requestId: input.requestId,
        matchesReceipt,
        matches: attribution.status === 'ok',
        checks: { ...fromReceipt, requestHash, versionRoot, corpus, attribution },
        stored,
        recomputed,
        firstDifference,
      };
    },
    /** Frees the gradient scorers' buffers. */
    dispose: () => cache.dispose(),
  };
}
