/**
 * The attribution runtime: attributing answers of models trained on DataNet versions, from public artifacts only —
 * the version's export (its corpus), the served base model (its tokenizer traces spans in the tokens the model
 * produced, its weights give gradients) and the adapter and gradient index the model's training receipt names.
 * The node attributes every paid answer with it, reading its own store; an auditor recomputes with it, reading a
 * node's public API. Both build the same corpus, indexes and scorer, so both get the same bytes.
 *
 * What is expensive to build is kept in an AttributionCache, made by createAttributionCache and passed in: the
 * base model, its tokenizer, each version's attributor and each model's gradient scorer. Nothing is cached at
 * module level, so two runtimes (two independent auditors, two nodes in one test) share nothing they do not mean to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { BaseError, hashObject, type Logger } from '../core/index.js';
import { artifactHash, baseModelFromGguf, bundledBaseModel } from '../engine/index.js';
import { inArrivalOrder, parseVersionExport } from '../protocol/index.js';
import { type CorpusAttributor, corpusHashOf, createCorpusAttributor, type GradientScorer } from './attributor.js';
import type { CorpusRow } from './corpus-file.js';
import { type GradientArtifacts, gradientScorerFromReceipt } from './gradient-scorer.js';
import { spanTokenizerOf } from './model-tokenizer.js';
import type { AttributionMethod, AttributionResult } from './result.js';
import { buildSpanIndexFromTexts, openSpanIndex, type SpanTokenizer, writeSpanIndex } from './span/index.js';

/**
 * The methods a served answer is attributed by: span always; gradient when the model was trained with a gradient
 * index; rag only when retrieval grounded the prompt — passages the model never read taught it nothing, so without
 * retrieval, word overlap with the corpus would pay for answers it did not shape.
 */
export function servedAttributionMethods(o: { gradient: boolean; retrieval: boolean }): AttributionMethod[] {
  return ['span', ...(o.gradient ? ['gradient' as const] : []), ...(o.retrieval ? ['rag' as const] : [])];
}

/** Retrieved passages are cut to this many characters: the base model's context is small. */
const PASSAGE_CHARS = 300;

/** The prompt a model reads: with retrieval, the retrieved passages' block before the asked prompt. */
export function groundedPrompt(prompt: string, retrieved: { context: string } | null): string {
  return retrieved ? `${retrieved.context}\n${prompt}` : prompt;
}

/**
 * The block a grounded prompt starts with: the passages as a list under "Context:". Serving writes it before the
 * question, and the factory's `facts` preset trains on prompts that start with it, so a model reads passages in
 * the form it learnt them.
 */
export function contextBlock(texts: readonly string[]): string {
  return `Context:\n${texts.map((t) => `- ${t.length > PASSAGE_CHARS ? `${t.slice(0, PASSAGE_CHARS)}…` : t}`).join('\n')}`;
}

/** The DataNet version a model was trained on. */
export interface VersionRef {
  id: string;
  version: number;
  root: Hex;
}

/** A model's gradient scorer; it holds the engine's buffers until disposed. */
export interface GradientScorerHandle {
  score: GradientScorer;
  dispose(): void;
}

export interface AttributionCache {
  /** The served base model, read once: its weights for gradients, its vocabulary for span tokens. */
  base(): GradientArtifacts['base'];
  /** The base model's span tokenizer, made once. */
  tokenizer(): SpanTokenizer;
  /** Attributors by DataNet version and row set (`id:version:corpusHash`). */
  readonly corpora: Map<string, Promise<CorpusAttributor>>;
  /** Gradient scorers by training receipt CID and row set (null: the receipt names no gradient index). */
  readonly scorers: Map<string, Promise<GradientScorerHandle | null>>;
  /** Versions (and scorers) kept in memory; beyond it the oldest is dropped (and rebuilt if asked again). */
  readonly maxVersions: number;
  /** Frees every gradient scorer's buffers. */
  dispose(): Promise<void>;
}

export interface AttributionCacheOptions {
  /** Versions (and scorers) kept in memory; default 16. */
  maxVersions?: number;
  /** Reads the served base model; default: the bundled one. */
  readBaseModel?: () => GradientArtifacts['base'];
}

/** The bundled base with its file's hash (a receipt naming another base gets that one: gradient-scorer.ts). */
const readBundledBaseModel = (): GradientArtifacts['base'] => {
  const bytes = new Uint8Array(readFileSync(bundledBaseModel.path));
  const { weights, vocab } = baseModelFromGguf(bytes);
  return { weights, vocab, sha256: artifactHash(bytes).sha256 };
};

export function createAttributionCache(options: AttributionCacheOptions = {}): AttributionCache {
  const readBase = options.readBaseModel ?? readBundledBaseModel;
  let base: GradientArtifacts['base'] | undefined;
  let tokenizer: SpanTokenizer | undefined;
  const cache: AttributionCache = {
    base: () => (base ??= readBase()),
    tokenizer: () => (tokenizer ??= spanTokenizerOf(cache.base().vocab)),
    corpora: new Map(),
    scorers: new Map(),
    maxVersions: options.maxVersions ?? 16,
    async dispose() {
      const scorers = [...cache.scorers.values()];
      cache.scorers.clear();
      for (const s of scorers) (await s.catch(() => null))?.dispose();
    },
  };
  return cache;
}

/** Drops the oldest entries beyond `max` (a Map iterates in insertion order). */
function keepNewest<V>(map: Map<string, V>, max: number, drop?: (value: V) => void): void {
  for (const [key, value] of map) {
    if (map.size <= max) return;
    map.delete(key);
    drop?.(value);
  }
}

/** A corpus and its `corpusHashOf`. */
interface RowSet {
  rows: readonly CorpusRow[];
  hash: Hex;
}

export interface AttributionRuntimeOptions {
  cache: AttributionCache;
  /** A DataNet version's export as JSON lines: the node's own, or `GET /v1/datanets/:id/versions/:v/export`. */
  readExport(dataNet: VersionRef): Promise<string>;
  /** A blob by CID (training receipts, adapters, gradient indexes), or null when it is not held. */
  readBlob(cid: string): Promise<Uint8Array | null | undefined>;
  /** Where blobs come from, for errors (a node's URL; default "this node's blob store"). */
  blobSource?: string;
  /** Keep each version's span index on disk under this folder (built once per version and row set); default in memory. */
  indexDir?: string;
  log?: Logger;
}

export interface AttributeAnswer {
  dataNet: VersionRef;
  /** The prompt the model read (for chat, `formatChat` of the messages). */
  prompt: string;
  output: string;
  /** The model's training receipt: the gradient method joins when it names a gradient index. */
  receiptCid?: string;
  /** Retrieval grounded the prompt (its passages come first): rag evidence joins. Default false. */
  retrieval?: boolean;
  /** Exactly these methods (an audit recomputing a stored result); default `servedAttributionMethods`. */
  methods?: readonly AttributionMethod[];
  /**
   * The rows to attribute against (an audit of an answer served before a withdrawal, from an export kept from
   * then); default the export's live rows, read now.
   */
  rows?: readonly CorpusRow[];
}

export function createAttributionRuntime(o: AttributionRuntimeOptions) {
  const { cache } = o;
  /** The last export read of each version and its live rows. */
  const parsed = new Map<string, RowSet & { text: string }>();

  /**
   * The live contributions of a version (withdrawn rows left out), as its export lists them now. Read for every
   * answer; parsed again only when the export's text changed (parsing and hashing rows costs far more than reading).
   */
  async function liveRows(dataNet: VersionRef): Promise<RowSet> {
    const text = await o.readExport(dataNet);
    const key = `${dataNet.id}:${dataNet.version}`;
    const last = parsed.get(key);
    if (last?.text === text) return last;
    const exported = parseVersionExport(text, `DataNet ${dataNet.id} version ${dataNet.version} export`);
    const rows = inArrivalOrder(exported).map((r) => ({
      id: r.id,
      contributor: r.contributor,
      text: r.text,
    }));
    const read = { text, rows, hash: corpusHashOf(rows) };
    parsed.set(key, read);
    keepNewest(parsed, cache.maxVersions);
    return read;
  }

  async function build(dataNet: VersionRef, rows: readonly CorpusRow[]): Promise<CorpusAttributor> {
    const tokenizer = cache.tokenizer();
    const ref = { id: dataNet.id, version: dataNet.version, root: dataNet.root };
    if (o.indexDir === undefined) return createCorpusAttributor({ rows, tokenizer, dataNet: ref });
    // On disk per version and row set: a withdrawal changes the row set, so the next build leaves its text out.
    const rowsHash = hashObject(rows.map((r) => r.id)).slice(2, 18);
    const dir = join(o.indexDir, `datanet-${dataNet.id}-v${dataNet.version}-${rowsHash}`);
    if (!existsSync(join(dir, 'header.json'))) {
      const data = buildSpanIndexFromTexts({
        documents: rows.map((r) => ({ contributionId: r.id, contributor: r.contributor, text: r.text })),
        tokenizer,
      });
      await writeSpanIndex(data, dir);
      o.log?.info({ dataNetId: dataNet.id, version: dataNet.version, rows: rows.length, dir }, 'span index built');
    }
    return createCorpusAttributor({
      rows,
      tokenizer,
      spanIndex: await openSpanIndex({ dir, tokenizer }),
      dataNet: ref,
    });
  }

  /**
   * The attributor of a version over `rows` (default: its live rows, read now). Kept by row set, not by version: a
   * withdrawal changes the live rows, so the next answer is attributed without the withdrawn row — no restart.
   * Built on first use; a failed build is retried next time.
   */
  async function corpus(dataNet: VersionRef, rows?: readonly CorpusRow[]): Promise<CorpusAttributor> {
    const set = rows ? { rows, hash: corpusHashOf(rows) } : await liveRows(dataNet);
    const key = `${dataNet.id}:${dataNet.version}:${set.hash}`;
    let a = cache.corpora.get(key);
    if (!a) {
      a = build(dataNet, set.rows);
      a.catch(() => cache.corpora.delete(key));
      cache.corpora.set(key, a);
      keepNewest(cache.corpora, cache.maxVersions);
    }
    return a;
  }

  /** The gradient scorer of a model version (by its training receipt) over a corpus, or null without a gradient index. */
  function scorer(receiptCid: string, a: Pick<CorpusAttributor, 'rows' | 'corpusHash'>) {
    // Scores are by row position, so a scorer serves one row set.
    const key = `${receiptCid}:${a.corpusHash}`;
    let s = cache.scorers.get(key);
    if (!s) {
      // async, so that a failure to read the base model rejects instead of throwing here.
      s = (async () => gradientScorerFromReceipt(receiptCid, o.readBlob, cache.base(), a.rows))();
      s.catch(() => cache.scorers.delete(key));
      cache.scorers.set(key, s);
      keepNewest(cache.scorers, cache.maxVersions, (dropped) => {
        void dropped.then(
          (x) => x?.dispose(),
          () => undefined, // a scorer that failed to build holds nothing
        );
      });
    }
    return s;
  }

  return {
    corpus,
    scorer,
    /** Attributes one answer against the DataNet version its model was trained on. */
    async attribute(r: AttributeAnswer): Promise<AttributionResult> {
      const a = await corpus(r.dataNet, r.rows);
      const wantsGradient = r.methods === undefined || r.methods.includes('gradient');
      const s = wantsGradient && r.receiptCid ? await scorer(r.receiptCid, a) : null;
      if (r.methods?.includes('gradient') && r.receiptCid && !s)
        throw new BaseError(
          'NOT_FOUND',
          `Training receipt ${r.receiptCid} is not on ${o.blobSource ?? "this node's blob store"} or names no gradient index`,
          { details: { field: 'trainingReceipt', receiptCid: r.receiptCid } },
        );
      return a.attribute({
        prompt: r.prompt,
        output: r.output,
        methods: r.methods ?? servedAttributionMethods({ gradient: s !== null, retrieval: r.retrieval === true }),
        ...(s ? { gradient: s.score } : {}),
      });
    },
    /**
     * Retrieval: the best passages of a version for `query`, as a context block to put before the prompt (null when
     * none match). The answer's RAG evidence later retrieves with that whole prompt, so the passages given are the
     * ones cited. `rows`: the corpus as it was when the answer was served (an audit); default the live rows.
     */
    async retrieve(dataNet: VersionRef, query: string, topK: number, rows?: readonly CorpusRow[]) {
      const hits = (await corpus(dataNet, rows)).retrieve(query, topK);
      if (hits.length === 0) return null;
      return {
        context: contextBlock(hits.map((h) => h.text)),
        citations: hits.map((h) => ({ id: h.id, contributor: h.contributor })),
      };
    },
  };
}

export type AttributionRuntime = ReturnType<typeof createAttributionRuntime>;
