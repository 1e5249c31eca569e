/**
 * Proof of Attribution on the node: each paid answer of a model trained on a DataNet version is attributed against
 * that version's contributions (span index in the served model's tokens + BM25 citations). The version's corpus is
 * its public export, so anyone can recompute the result with `tributary attribute`. Span indexes are kept on disk
 * per version and row set (a withdrawal changes the row set, so the next build leaves the withdrawn text out).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import {
  type AttributionMethod,
  type AttributionResult,
  buildSpanIndexFromTexts,
  type CorpusAttributor,
  type CorpusRow,
  createCorpusAttributor,
  type GradientScorer,
  gradientScorerFromReceipt,
  openSpanIndex,
  type SpanTokenizer,
  spanTokenizerOf,
  writeSpanIndex,
} from '../attribution/index.js';
import { hashObject, type Logger } from '../core/index.js';
import type { DataNetService } from '../datanets/index.js';
import { type BaseModelFile, baseModelFromGguf, bundledBaseModel } from '../engine/index.js';
import type { PayableModel } from '../settlement/index.js';
import type { BlobStore } from '../store/index.js';

/** Methods for every served answer; `gradient` joins them when the model was trained with a gradient index. */
export const servedAttributionMethods: AttributionMethod[] = ['span', 'rag'];
const withGradient: AttributionMethod[] = ['span', 'gradient', 'rag'];

/** Versions whose attributor stays in memory; older ones are dropped and reopened from disk when asked again. */
const CACHED_VERSIONS = 16;
/** Retrieved passages are cut to this many characters: the base model's context is small. */
const PASSAGE_CHARS = 300;

export function createNodeAttribution(deps: {
  datanets: DataNetService;
  blobs: BlobStore;
  dataDir: string;
  log: Logger;
}) {
  // The served base model, read once: its weights for gradients, its vocabulary for span tokens.
  let base: BaseModelFile | undefined;
  let tokenizer: SpanTokenizer | undefined;
  const bundled = () => (base ??= baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))));
  const cache = new Map<string, Promise<CorpusAttributor>>();
  const scorers = new Map<string, Promise<{ score: GradientScorer; dispose(): void } | null>>();

  /** The gradient scorer of a model version (by its training receipt), or null if it has no gradient index. */
  function scorerFor(receiptCid: string, rows: readonly CorpusRow[]) {
    let s = scorers.get(receiptCid);
    if (!s) {
      // async, so that a failure to read the base model rejects instead of throwing here.
      s = (async () => gradientScorerFromReceipt(receiptCid, (cid) => deps.blobs.get(cid), bundled(), rows))();
      s.catch(() => scorers.delete(receiptCid));
      scorers.set(receiptCid, s);
      if (scorers.size > CACHED_VERSIONS) {
        const oldest = scorers.keys().next().value as string;
        void scorers.get(oldest)?.then(
          (x) => x?.dispose(),
          () => undefined, // a scorer that failed to build holds nothing
        );
        scorers.delete(oldest);
      }
    }
    return s;
  }

  async function rowsOf(dataNetId: bigint, version: number): Promise<CorpusRow[]> {
    const rows: CorpusRow[] = [];
    for await (const line of deps.datanets.exportVersion(dataNetId, version)) {
      const r = JSON.parse(line) as { id: string; contributor: string; text: string };
      rows.push({ id: r.id, contributor: r.contributor, text: r.text });
    }
    return rows;
  }

  async function build(dataNetId: bigint, version: number, root: Hex): Promise<CorpusAttributor> {
    tokenizer ??= spanTokenizerOf(bundled().vocab);
    const rows = await rowsOf(dataNetId, version);
    const rowsHash = hashObject(rows.map((r) => r.id)).slice(2, 18);
    const dir = join(deps.dataDir, 'indexes', `datanet-${dataNetId}-v${version}-${rowsHash}`);
    if (!existsSync(join(dir, 'header.json'))) {
      const data = buildSpanIndexFromTexts({
        documents: rows.map((r) => ({ contributionId: r.id, contributor: r.contributor, text: r.text })),
        tokenizer,
      });
      await writeSpanIndex(data, dir);
      deps.log.info({ dataNetId: dataNetId.toString(), version, rows: rows.length, dir }, 'span index built');
    }
    return createCorpusAttributor({
      rows,
      tokenizer,
      spanIndex: await openSpanIndex({ dir, tokenizer }),
      dataNet: { id: dataNetId.toString(), version, root },
    });
  }

  /** The attributor of the DataNet version a model was trained on; null without lineage (nothing to attribute to). */
  async function attributorOf(model: PayableModel): Promise<CorpusAttributor | null> {
    const l = model.record?.latest;
    if (!l?.dataNetId || l.dataNetVersion === null || !l.dataNetRoot) return null;
    const key = `${l.dataNetId}:${l.dataNetVersion}`;
    let a = cache.get(key);
    if (!a) {
      a = build(l.dataNetId, l.dataNetVersion, l.dataNetRoot);
      a.catch(() => cache.delete(key));
      cache.set(key, a);
      if (cache.size > CACHED_VERSIONS) cache.delete(cache.keys().next().value as string);
    }
    return a;
  }

  return {
    /** The settlement hook: null when the model has no DataNet lineage (nothing to attribute to). */
    async attribute(r: { model: PayableModel; prompt: string; output: string }): Promise<AttributionResult | null> {
      const a = await attributorOf(r.model);
      if (!a) return null;
      const receiptCid = (r.model.record?.latest as { receiptCid?: string } | undefined)?.receiptCid;
      const scorer = receiptCid ? await scorerFor(receiptCid, a.rows) : null;
      return a.attribute({
        prompt: r.prompt,
        output: r.output,
        methods: scorer ? withGradient : servedAttributionMethods,
        ...(scorer ? { gradient: scorer.score } : {}),
      });
    },
    /**
     * Retrieval for a model served with it: the best passages of its DataNet version for `query`, as a context
     * block before the prompt. The answer's RAG evidence later retrieves with that whole prompt, so the passages
     * given are the ones cited.
     */
    async retrieve(r: { model: PayableModel; query: string; topK: number }) {
      const a = await attributorOf(r.model);
      const hits = a ? a.retrieve(r.query, r.topK) : [];
      if (hits.length === 0) return null;
      const passages = hits.map(
        (h) => `- ${h.text.length > PASSAGE_CHARS ? `${h.text.slice(0, PASSAGE_CHARS)}…` : h.text}`,
      );
      return {
        context: `Context:\n${passages.join('\n')}`,
        citations: hits.map((h) => ({ id: h.id, contributor: h.contributor })),
      };
    },
  };
}
