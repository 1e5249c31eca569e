/**
 * Precision@1 on the planted, paraphrased and hard sets: per seed a DataNet is generated, a LoRA adapter fine-tuned
 * on it, and every method attributes every question's served answer; a hit is a top-paid contributor who taught the
 * fact. Also the gradient coverage the paid path gives for noise (unrelated questions, mismatched answers).
 */
import { createTokenizer, type LlamaWeights, type Vocabulary } from '../../src/engine/index.js';
import { type DataSet, hardSet, plantedSet, type Query, shuffledQueries, unrelatedQueries } from './data.js';
import { createMethodScorer, methods } from './methods.js';
import { bootstrapCi, mean, quantile, round } from './stats.js';
import { type FineTuneOptions, fineTune, seqLenOf, textSequence } from './train.js';

export type PrecisionSet = 'planted' | 'paraphrased' | 'hard';

export interface PrecisionSettings {
  seeds: readonly number[];
  train: Omit<FineTuneOptions, 'seed' | 'seqLen'>;
  log: (o: Record<string, unknown>) => void;
}

type Hits = Map<string, number[]>;
const push = (m: Map<string, number[]>, k: string, xs: number[]) => m.set(k, [...(m.get(k) ?? []), ...xs]);

/** Trains on `data`, scores every method on each of `asked` (queries over the same rows). */
async function scoreSeed(
  base: { weights: LlamaWeights; vocab: Vocabulary },
  data: DataSet,
  asked: Partial<Record<PrecisionSet, readonly Query[]>>,
  seed: number,
  s: PrecisionSettings,
  hits: Hits,
  noise: Map<string, number[][]>,
): Promise<void> {
  const t0 = performance.now();
  const tok = createTokenizer(base.vocab);
  const seqs = data.rows.map((r) => textSequence(tok, r.text));
  const trained = await fineTune(base.weights, seqs, { ...s.train, seed, seqLen: seqLenOf(seqs) });
  const trainSeconds = (performance.now() - t0) / 1000;
  const scorer = await createMethodScorer({ base, adapter: trained.adapter, rows: data.rows, seed });
  const indexSeconds = (performance.now() - t0) / 1000 - trainSeconds;
  const seedP1: Record<string, number> = {};
  const methodSeconds: Record<string, number> = {};
  try {
    for (const [set, queries] of Object.entries(asked)) {
      for (const method of methods) {
        const m0 = performance.now();
        const verdicts = await scorer.score(method, queries);
        methodSeconds[method] = round((methodSeconds[method] ?? 0) + (performance.now() - m0) / 1000);
        const h = verdicts.map((v, i) =>
          v.ranked[0] !== undefined && queries[i]?.teachers.includes(v.ranked[0]) ? 1 : 0,
        );
        push(hits, `${set}|${method}`, h);
        seedP1[`${set}.${method}`] = round(mean(h));
      }
    }
    if (asked.hard) {
      const kinds = {
        true: asked.hard,
        unrelated: unrelatedQueries(seed, data.rows, asked.hard.length),
        shuffled: shuffledQueries(asked.hard),
      };
      for (const [kind, queries] of Object.entries(kinds)) {
        const verdicts = await scorer.score('gradient', queries);
        const rows = noise.get(kind) ?? [];
        for (const v of verdicts) rows.push([v.coverage ?? 0, v.paid.filter((x) => x > 0).length]);
        noise.set(kind, rows);
      }
    }
  } finally {
    scorer.dispose();
  }
  s.log({
    stage: `precision-seed-${seed}`,
    sets: Object.keys(asked),
    rows: data.rows.length,
    steps: trained.steps,
    firstLoss: round(trained.firstLoss),
    lastLoss: round(trained.lastLoss),
    trainSeconds: round(trainSeconds),
    indexSeconds: round(indexSeconds),
    methodSeconds,
    seconds: round((performance.now() - t0) / 1000),
    p1: seedP1,
  });
}

/** Per (set, method) the hit of every (seed, query), and per noise kind [coverage, rows paid] per query. */
export interface PrecisionRaw {
  seeds: number[];
  hits: Record<string, number[]>;
  noise: Record<string, number[][]>;
}

/** Trains and scores `s.seeds` (one part of the suite; parts run in parallel and are merged). */
export async function precisionRaw(
  base: { weights: LlamaWeights; vocab: Vocabulary },
  s: PrecisionSettings,
): Promise<PrecisionRaw> {
  const hits: Hits = new Map();
  const noise = new Map<string, number[][]>();
  for (const seed of s.seeds) {
    const planted = plantedSet(seed);
    const asked = { planted: planted.verbatim.queries, paraphrased: planted.paraphrased.queries };
    await scoreSeed(base, planted.verbatim, asked, seed, s, hits, noise);
    const hard = hardSet(seed);
    await scoreSeed(base, hard, { hard: hard.queries }, seed, s, hits, noise);
  }
  return { seeds: [...s.seeds], hits: Object.fromEntries(hits), noise: Object.fromEntries(noise) };
}

/** The suite's lines from its parts: P@1 per set and method, and the noise lines. */
export function precisionLines(parts: readonly PrecisionRaw[]): Record<string, unknown>[] {
  const seeds = parts.flatMap((p) => p.seeds).length;
  const joined = (key: string, of: (p: PrecisionRaw) => Record<string, unknown[]>) =>
    parts.flatMap((p) => of(p)[key] ?? []);
  const lines: Record<string, unknown>[] = [];
  for (const set of ['planted', 'paraphrased', 'hard'] as const) {
    for (const method of methods) {
      const h = joined(`${set}|${method}`, (p) => p.hits) as number[];
      const ci = bootstrapCi(h, 12);
      lines.push({
        suite: 'attribution-quality',
        set,
        method,
        p1: round(mean(h)),
        p1Ci: [round(ci[0]), round(ci[1])],
        ci: 'percentile bootstrap over (seed, query) pairs',
        seeds,
        queries: h.length,
      });
    }
  }
  for (const kind of ['true', 'unrelated', 'shuffled']) {
    const rows = joined(kind, (p) => p.noise) as number[][];
    const coverage = rows.map((r) => r[0] ?? 0);
    const sorted = [...coverage].sort((a, b) => a - b);
    const ci = bootstrapCi(coverage, 13);
    lines.push({
      suite: 'attribution-quality',
      set: 'noise',
      method: 'gradient',
      queries: kind,
      coverage: round(mean(coverage)),
      coverageCi: [round(ci[0]), round(ci[1])],
      coverageP95: round(quantile(sorted, 0.95)),
      rowsPaid: round(mean(rows.map((r) => r[1] ?? 0))),
      count: rows.length,
      seeds,
    });
  }
  return lines;
}
