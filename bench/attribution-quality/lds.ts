/**
 * Linear datamodeling score (Park et al., 2023, at dattri's protocol): a LoRA adapter is retrained on random halves of
 * a 64-row pool; for each held-out question, a method's prediction for a subset is the sum of its members' scores,
 * and the query's LDS is the Spearman correlation, over the subsets, between predictions and the retrained model's
 * (negated) loss on the served answer. Reported per method on signed scores and on the weights that are paid, as the
 * mean over queries with a 95% bootstrap interval resampling queries; the random null is the mean and the 2.5–97.5%
 * range of many random score draws.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gradientQuerySequence } from '../../src/attribution/index.js';
import { createLlamaModel, createTokenizer, type LlamaWeights, Rng, type Vocabulary } from '../../src/engine/index.js';
import { ldsSet, shuffled } from './data.js';
import { createMethodScorer, methods } from './methods.js';
import { bootstrapCi, mean, quantile, round, spearman } from './stats.js';
import { type FineTuneOptions, fineTune, type Sequence, seqLenOf, sequenceLosses, textSequence } from './train.js';

export interface LdsSettings {
  seed: number;
  /**
   * Keeps the full model's scores and each retrain's query losses here (deterministic, so a rerun or a second
   * process over the same folder reuses them); none by default.
   */
  cacheDir?: string;
  /** Retrain the subsets last to first (a second process sharing the cache folder). */
  reverse?: boolean;
  /** Report over the subsets already in the cache folder, retraining none (an interrupted run's figures). */
  cachedOnly?: boolean;
  subsets: number;
  nullDraws: number;
  train: Omit<FineTuneOptions, 'seed' | 'seqLen'>;
  log: (o: Record<string, unknown>) => void;
}

const weightKinds = ['signed', 'paid'] as const;

/** `make()`'s value, kept as JSON in `dir/name` (written atomically) when a folder is given. */
async function cached<T>(dir: string | undefined, name: string, make: () => Promise<T>): Promise<T> {
  if (!dir) return make();
  const path = join(dir, name);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as T;
  const value = await make();
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${path}.${process.pid}`, JSON.stringify(value));
  renameSync(`${path}.${process.pid}`, path);
  return value;
}

/** Per query, the Spearman ρ between a method's subset predictions and the subsets' actual (negated) losses. */
function perQueryLds(
  members: readonly Uint8Array[],
  losses: readonly number[][],
  scores: readonly ArrayLike<number>[],
) {
  return scores.map((s, qi) => {
    const predicted = members.map((m) => m.reduce((acc, inS, i) => acc + (inS ? (s[i] ?? 0) : 0), 0));
    return spearman(
      predicted,
      losses.map((l) => -(l[qi] ?? 0)),
    );
  });
}

export async function ldsSuite(
  base: { weights: LlamaWeights; vocab: Vocabulary },
  s: LdsSettings,
): Promise<Record<string, unknown>[]> {
  const t0 = performance.now();
  const data = ldsSet(s.seed);
  const tok = createTokenizer(base.vocab);
  const rowSeqs = data.rows.map((r) => textSequence(tok, r.text));
  const querySeqs: Sequence[] = data.queries.map((q) => {
    const g = gradientQuerySequence(tok, base.weights.config.contextLength, q.prompt, q.answer);
    return { tokens: Array.from(g.tokens), weights: Array.from(g.weights ?? []) };
  });
  const seqLen = seqLenOf(rowSeqs);
  const querySeqLen = seqLenOf(querySeqs);
  const train = (seqs: readonly Sequence[]) => fineTune(base.weights, seqs, { ...s.train, seed: s.seed, seqLen });
  // Every method scores the full model first (a failure shows before the long part), then the retrains.
  const verdicts = await cached(s.cacheDir, `lds-${s.seed}-scores.json`, async () => {
    const full = await train(rowSeqs);
    s.log({ stage: 'lds-full', rows: rowSeqs.length, seqLen, steps: full.steps, lastLoss: round(full.lastLoss) });
    const scorer = await createMethodScorer({ base, adapter: full.adapter, rows: data.rows, seed: s.seed });
    try {
      const out: [string, { signed: number[]; paid: number[] }[]][] = [];
      for (const method of methods.filter((m) => m !== 'random')) {
        const v = await scorer.score(method, data.queries);
        out.push([method, v.map((x) => ({ signed: Array.from(x.signed), paid: Array.from(x.paid) }))]);
      }
      return out;
    } finally {
      scorer.dispose();
    }
  });
  s.log({ stage: 'lds-scored', seconds: round((performance.now() - t0) / 1000) });

  const model = createLlamaModel(base.weights);
  const members: Uint8Array[] = [];
  const losses: number[][] = [];
  // A second process over the same cache folder may take the subsets from the end (s.reverse).
  const order = Array.from({ length: s.subsets }, (_, k) => (s.reverse ? s.subsets - 1 - k : k));
  try {
    for (const k of order) {
      const chosen = new Set(
        shuffled(
          Array.from(rowSeqs, (_, i) => i),
          new Rng(s.seed * 31 + k),
        ).slice(0, rowSeqs.length / 2),
      );
      if (s.cachedOnly && !(s.cacheDir && existsSync(join(s.cacheDir, `lds-${s.seed}-subset-${k}.json`)))) continue;
      members[k] = Uint8Array.from(rowSeqs, (_, i) => (chosen.has(i) ? 1 : 0));
      losses[k] = await cached(s.cacheDir, `lds-${s.seed}-subset-${k}.json`, async () => {
        const r = await train(rowSeqs.filter((_, i) => chosen.has(i)));
        return sequenceLosses(model, r.adapter, querySeqs, querySeqLen);
      });
      if ((k + 1) % 10 === 0)
        s.log({ stage: 'lds-retrained', subsets: k + 1, seconds: round((performance.now() - t0) / 1000) });
    }
  } finally {
    model.dispose();
  }

  // Only the subsets retrained (all of them, unless s.cachedOnly reports an interrupted run).
  const done = members.flatMap((m, k) => (m ? [k] : []));
  members.splice(0, members.length, ...done.map((k) => members[k] as Uint8Array));
  losses.splice(0, losses.length, ...done.map((k) => losses[k] as number[]));
  const common = {
    suite: 'attribution-quality',
    set: 'lds',
    subsets: members.length,
    retrainSeeds: 1,
    queries: data.queries.length,
  };
  const lines: Record<string, unknown>[] = [];
  for (const [method, v] of verdicts) {
    for (const weights of weightKinds) {
      const rho = perQueryLds(
        members,
        losses,
        v.map((x) => x[weights]),
      );
      const ci = bootstrapCi(rho, 21);
      lines.push({ ...common, method, weights, lds: round(mean(rho)), ldsCi: [round(ci[0]), round(ci[1])] });
    }
  }
  // The null: random scores per row and query (normal for signed, their positive part for paid), many draws.
  const rng = new Rng(s.seed ^ 0xa11);
  for (const weights of weightKinds) {
    const draws: number[] = [];
    for (let d = 0; d < s.nullDraws; d++) {
      const scores = data.queries.map(() =>
        Float64Array.from(data.rows, () => (weights === 'signed' ? rng.normal() : Math.max(0, rng.normal()))),
      );
      draws.push(mean(perQueryLds(members, losses, scores)));
    }
    draws.sort((a, b) => a - b);
    lines.push({
      ...common,
      method: 'random',
      weights,
      lds: round(mean(draws)),
      ldsCi: [round(quantile(draws, 0.025)), round(quantile(draws, 0.975))],
      nullDraws: s.nullDraws,
    });
  }
  s.log({ stage: 'lds-done', seconds: round((performance.now() - t0) / 1000) });
  return lines;
}
