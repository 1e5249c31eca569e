/**
 * Every method the bench scores, on one fine-tuned model and its corpus. The attribution methods go through what the
 * node pays with: the production corpus attributor (its trace settings, `attributionTraceOptions`), whose gradient
 * scorer is built as the node builds it — a gradient index with the factory's settings, encoded, and a scorer over
 * the GGUF adapter and those bytes. "combined" is the node's method set for an answer served without retrieval (span
 * and gradient); "combined-rag" adds RAG, as for an answer served with retrieval. Contributors are ranked by the
 * result's `sharesPpm`: what is paid. bm25, tracin and random are baselines; every method sees the prompt and the
 * served answer only.
 */
import {
  type AttributionMethod,
  attributionTraceOptions,
  buildGradientIndex,
  createBm25Index,
  createCorpusAttributor,
  createGradientScorer,
  createInfluenceScorer,
  encodeGradientIndex,
  gradientQuerySequence,
  gradientTokenizerId,
  spanTokenizerOf,
  tracinInfluence,
} from '../../src/attribution/index.js';
import {
  adapterToGguf,
  createTokenizer,
  type LlamaWeights,
  type LoraWeights,
  Rng,
  type Vocabulary,
} from '../../src/engine/index.js';
import type { Query, Row } from './data.js';
import { type Sequence, textSequence } from './train.js';

export const attributorMethods = {
  combined: ['span', 'gradient'],
  'combined-rag': ['span', 'gradient', 'rag'],
  span: ['span'],
  gradient: ['gradient'],
  rag: ['rag'],
} as const satisfies Record<string, readonly AttributionMethod[]>;
export const baselines = ['bm25', 'tracin', 'random'] as const;
export type Method = keyof typeof attributorMethods | (typeof baselines)[number];
export const methods: Method[] = [...(Object.keys(attributorMethods) as Method[]), ...baselines];

/** One method's verdict on one query. */
export interface Scored {
  /** Per corpus row: the method's own score (influence may be negative). */
  signed: Float64Array;
  /** Per corpus row: what it pays (clipped to positive, normalized; the attributor's ppm for attribution methods). */
  paid: Float64Array;
  /** Contributors by what they are paid, best first (ties by address). */
  ranked: string[];
  /** The paid share of the answer (1 − unattributed), attribution methods only. */
  coverage?: number;
}

export interface ServedModel {
  base: { weights: LlamaWeights; vocab: Vocabulary };
  adapter: LoraWeights;
  rows: readonly Row[];
  /** Seeds the gradient index's projection, as the factory's `hyper.seed` does. */
  seed: number;
}

export interface MethodScorer {
  score(method: Method, queries: readonly Query[]): Promise<Scored[]>;
  /** The training sequences of the rows (the index's examples). */
  readonly sequences: readonly Sequence[];
  dispose(): void;
}

function rankedBy(byContributor: ReadonlyMap<string, number>): string[] {
  return [...byContributor]
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([c]) => c);
}

/** A baseline's scores as a verdict: paid = positive part, normalized; contributors by their summed paid score. */
function baselineVerdict(rows: readonly Row[], signed: Float64Array): Scored {
  const paid = signed.map((s) => (s > 0 ? s : 0));
  const sum = paid.reduce((a, b) => a + b, 0);
  if (sum > 0) for (let i = 0; i < paid.length; i++) paid[i] = (paid[i] ?? 0) / sum;
  const byContributor = new Map<string, number>();
  rows.forEach((r, i) => {
    byContributor.set(r.contributor, (byContributor.get(r.contributor) ?? 0) + (paid[i] ?? 0));
  });
  return { signed, paid, ranked: rankedBy(byContributor) };
}

export async function createMethodScorer(model: ServedModel): Promise<MethodScorer> {
  const { base, adapter, rows } = model;
  const tok = createTokenizer(base.vocab);
  const sequences = rows.map((r) => textSequence(tok, r.text));
  const gradientModel = { base: base.weights, adapter, tokenizer: gradientTokenizerId(base.vocab) };
  // The factory's index: its default settings (gradientIndexSettings), the training sequences, the run's seed.
  const index = await buildGradientIndex({
    model: gradientModel,
    examples: rows.map((r, i) => ({ id: r.id, contributor: r.contributor, ...(sequences[i] as Sequence) })),
    seed: model.seed,
  });
  const served = createGradientScorer(rows, {
    base,
    adapter: adapterToGguf(adapter, { name: 'attribution-quality' }),
    gradientIndex: encodeGradientIndex(index),
  });
  // The node scores each answer once; the bench asks for it under several method sets, so it keeps each answer's.
  const signedGradient = new Map<string, ArrayLike<number>>();
  const gradient = async (r: { prompt: string; output: string }) => {
    const key = JSON.stringify([r.prompt, r.output]);
    let s = signedGradient.get(key);
    if (!s) {
      s = await served.score(r);
      signedGradient.set(key, s);
    }
    return s;
  };
  const attributor = createCorpusAttributor({
    rows,
    tokenizer: spanTokenizerOf(base.vocab),
    gradient,
    trace: attributionTraceOptions,
  });
  const rowOf = new Map(rows.map((r, i) => [r.id, i]));
  const bm25 = createBm25Index(rows);
  const influence = createInfluenceScorer(index, gradientModel);
  const contextLength = base.weights.config.contextLength;

  async function attributed(method: keyof typeof attributorMethods, q: Query): Promise<Scored> {
    const result = await attributor.attribute({
      prompt: q.prompt,
      output: q.answer,
      methods: attributorMethods[method],
    });
    const paid = new Float64Array(rows.length);
    for (const c of result.contributions) paid[rowOf.get(c.id) ?? -1] = c.ppm / 1e6;
    const signed =
      method === 'gradient' ? Float64Array.from(await gradient({ prompt: q.prompt, output: q.answer })) : paid;
    return {
      signed,
      paid,
      ranked: rankedBy(new Map(Object.entries(result.sharesPpm))),
      coverage: 1 - result.unattributedPpm / 1e6,
    };
  }

  return {
    sequences,
    async score(method, queries) {
      if (method === 'tracin') {
        const seqs = queries.map((q) => gradientQuerySequence(tok, contextLength, q.prompt, q.answer));
        const features = await influence.queryFeatures(seqs);
        return features.map((f) => baselineVerdict(rows, tracinInfluence(index, f)));
      }
      const out: Scored[] = [];
      for (const [qi, q] of queries.entries()) {
        if (method === 'bm25') {
          const s = new Float64Array(rows.length);
          for (const hit of bm25.search(`${q.prompt} ${q.answer}`, rows.length)) s[hit.document] = hit.score;
          out.push(baselineVerdict(rows, s));
        } else if (method === 'random') {
          const rng = new Rng(model.seed * 7919 + qi);
          out.push(
            baselineVerdict(
              rows,
              Float64Array.from(rows, () => rng.uniform()),
            ),
          );
        } else {
          out.push(await attributed(method, q));
        }
      }
      return out;
    },
    dispose() {
      served.dispose();
      influence.dispose();
    },
  };
}
