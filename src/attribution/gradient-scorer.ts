/**
 * The gradient method for a served model, built from public artifacts only — the base model, the adapter, and the
 * gradient index its training receipt names — so the node and any auditor score an answer identically. The query
 * is the prompt followed by the answer and the end-of-text token, with the loss on the answer: "how much did each
 * training example make this answer more likely?"
 */

import type { Hex } from 'viem';
import { at, BaseError } from '../core/index.js';
import {
  adapterFromGguf,
  artifactHash,
  baseModelFromGguf,
  createTokenizer,
  type LlamaWeights,
  type Tokenizer,
  type Vocabulary,
} from '../engine/index.js';
import { trainingReceiptOf } from '../protocol/index.js';
import type { GradientScorer } from './attributor.js';
import type { CorpusRow } from './corpus-file.js';
import { createInfluenceScorer, decodeGradientIndex, type GradientSequence } from './gradient/index.js';
import { spanTokenizerOf } from './model-tokenizer.js';

export interface GradientArtifacts {
  /**
   * The base model the adapter was trained on. Given as the served one with its file's `sha256`, it is replaced by
   * the base the training receipt names when that is another (read from the blob store by its CID).
   */
  base: { weights: LlamaWeights; vocab: Vocabulary; sha256?: Hex };
  /** The adapter's GGUF bytes. */
  adapter: Uint8Array;
  /** The encoded gradient index (training receipt's `gradientIndex`). */
  gradientIndex: Uint8Array;
}

/** The identity the gradient index records for a model's tokenizer (the span tokenizer's id). */
export const gradientTokenizerId = (vocab: Vocabulary): string => spanTokenizerOf(vocab).id;

/**
 * Prompt then answer then end-of-text, the loss on the answer; the prompt's start is cut to fit the context. Exported
 * so that baselines (TracIn in the quality bench) and retraining losses score exactly the sequence the node scores.
 */
export function gradientQuerySequence(
  tokenizer: Tokenizer,
  contextLength: number,
  prompt: string,
  output: string,
): GradientSequence {
  const p = tokenizer.encode(prompt);
  const o = [...tokenizer.encode(output), tokenizer.vocab.eosId];
  // Keep the answer whole and as much of the prompt's end as fits the context.
  const keep = Math.max(0, Math.min(p.length, contextLength + 1 - o.length));
  const tokens = [...p.slice(p.length - keep), ...o].slice(0, contextLength + 1);
  return { tokens, weights: tokens.map((_, i) => (i >= keep ? 1 : 0)) };
}

/**
 * Scores corpus rows by positive-or-negative influence; rows the index does not hold (held out of training, or
 * added later) score 0. The returned scorer keeps the engine's buffers: call `dispose` when done.
 */
export function createGradientScorer(
  rows: readonly CorpusRow[],
  artifacts: GradientArtifacts,
): { score: GradientScorer; dispose(): void } {
  const index = decodeGradientIndex(artifacts.gradientIndex);
  const { weights, vocab } = artifacts.base;
  const scorer = createInfluenceScorer(index, {
    base: weights,
    adapter: adapterFromGguf(artifacts.adapter, weights.config),
    tokenizer: gradientTokenizerId(vocab),
  });
  const position = new Map(rows.map((r, i) => [r.id, i]));
  const tokenizer = createTokenizer(vocab);
  return {
    async score({ prompt, output }) {
      const query = gradientQuerySequence(tokenizer, weights.config.contextLength, prompt, output);
      const [influence] = await scorer.gradient([query]);
      if (!influence) throw new BaseError('INTERNAL', 'The gradient scorer returned no scores', {});
      const scores = new Float64Array(rows.length);
      index.examples.forEach((e, i) => {
        const row = position.get(e.id);
        if (row !== undefined) scores[row] = at(influence, i);
      });
      return scores;
    },
    dispose: () => scorer.dispose(),
  };
}

/**
 * The gradient artifacts of a model version from its training receipt (a JSON blob) and a blob reader (a node's
 * store, or `GET /v1/blobs/:cid` for an auditor). Null when the receipt is not held, is not a training receipt, or
 * names no gradient index (a model trained before the gradient method).
 */
export async function loadGradientArtifacts(
  receiptCid: string,
  readBlob: (cid: string) => Promise<Uint8Array | null | undefined>,
  base: GradientArtifacts['base'],
): Promise<GradientArtifacts | null> {
  const receiptBytes = await readBlob(receiptCid);
  if (!receiptBytes) return null;
  // A model's receipt may be another provenance document: only a training receipt names gradient artifacts.
  const receipt = trainingReceiptOf(new TextDecoder().decode(receiptBytes), `training receipt ${receiptCid}`);
  if (!receipt?.gradientIndex) return null;
  const trainedOn = await trainedBase(receipt.baseModel, readBlob, base);
  const [adapterCid, indexCid] = [receipt.adapter.cid, receipt.gradientIndex.cid];
  const [adapter, gradientIndex] = await Promise.all([readBlob(adapterCid), readBlob(indexCid)]);
  if (!adapter || !gradientIndex)
    throw new BaseError('NOT_FOUND', `The training receipt ${receiptCid} names blobs this store does not hold`, {
      details: { receiptCid, adapter: adapterCid, gradientIndex: indexCid },
    });
  return { base: trainedOn, adapter, gradientIndex };
}

/**
 * The base a receipt's adapter was trained on: `served` when it is that file (or when its hash is not known), else
 * the file the receipt names, read from the blob store by CID (which checks the bytes) and parsed. Scoring with the
 * wrong base would refuse the adapter at best, and score with another model's gradients at worst.
 */
async function trainedBase(
  named: { name: string; sha256: Hex; cid: string },
  readBlob: (cid: string) => Promise<Uint8Array | null | undefined>,
  served: GradientArtifacts['base'],
): Promise<GradientArtifacts['base']> {
  if (!served.sha256 || served.sha256.toLowerCase() === named.sha256.toLowerCase()) return served;
  const bytes = await readBlob(named.cid);
  if (!bytes) {
    throw new BaseError(
      'NOT_FOUND',
      `The base model ${named.name} the adapter was trained on is not in the blob store`,
      {
        details: { baseModel: named.name, cid: named.cid },
      },
    );
  }
  // The blob store checks the bytes against the CID, not the CID against the hash: a receipt naming one base's
  // hash and another's CID would score with a model its lineage does not name.
  if (artifactHash(bytes).sha256.toLowerCase() !== named.sha256.toLowerCase()) {
    throw new BaseError(
      'CONFLICT',
      `The training receipt names base model ${named.name} by a CID that holds another file`,
      {
        details: { baseModel: named.name, cid: named.cid, sha256: named.sha256 },
      },
    );
  }
  const file = baseModelFromGguf(bytes);
  return { weights: file.weights, vocab: file.vocab, sha256: named.sha256 };
}

/** The gradient scorer of a model version from its training receipt, or null when it has no gradient index. */
export async function gradientScorerFromReceipt(
  receiptCid: string,
  readBlob: (cid: string) => Promise<Uint8Array | null | undefined>,
  base: GradientArtifacts['base'],
  rows: readonly CorpusRow[],
): Promise<ReturnType<typeof createGradientScorer> | null> {
  const artifacts = await loadGradientArtifacts(receiptCid, readBlob, base);
  return artifacts ? createGradientScorer(rows, artifacts) : null;
}
