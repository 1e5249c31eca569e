/**
 * One AttributionResult from the evidence of several methods. Each method counts by its measured quality
 * (`methodWeights`): a contribution's weight is the weighted mean over methods of (coverage × its normalized weight
 * in that method), so the attributed share is the weighted mean coverage and the rest is explicitly unattributed. Integer ppm by the largest remainder (toPpm), scores
 * rounded to 1e-9, contributions ordered by share then id: the same evidence gives the same bytes.
 */
import { at } from '../core/index.js';
import type { Evidence } from './evidence.js';
import { type AttributionResult, type ContributionShare, PPM, toPpm } from './result.js';

export interface CorpusDocument {
  id: string;
  contributor: string;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * How much each method counts when combined: its linear datamodeling score on the weights it pays, from the
 * attribution-quality bench at dattri's standard (docs/attribution.md, "Accuracy": the `"set":"lds","weights":"paid"`
 * lines — span 0.754, gradient 0.450, rag 0.748 over 100 retrains × 64 questions), so a method counts by how well
 * what it pays predicts what retraining without a contribution changes. A new bench run that changes them gets a new
 * version; the weights are part of what decides money, so they change only by a commit.
 */
export const methodWeights = { version: 'mw-2026-12b', span: 0.75, gradient: 0.45, rag: 0.75 } as const;

function normalized(weights: ReadonlyMap<number, number>): Map<number, number> {
  const entries = [...weights].sort(([a], [b]) => a - b);
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  return new Map(sum > 0 ? entries.map(([k, w]) => [k, w / sum]) : []);
}

/** 1 − mean pairwise total-variation distance between the methods' distributions (1 for a single method). */
function agreement(dists: Map<number, number>[]): number {
  if (dists.length < 2) return 1;
  let sum = 0;
  let pairs = 0;
  for (const [i, a] of dists.entries())
    for (const b of dists.slice(i + 1)) {
      const keys = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
      let tv = 0;
      for (const k of keys) tv += Math.abs((a.get(k) ?? 0) - (b.get(k) ?? 0));
      sum += tv / 2;
      pairs++;
    }
  return 1 - sum / pairs;
}

export function combineEvidence(input: {
  documents: readonly CorpusDocument[];
  evidence: readonly Evidence[];
  dataNet: AttributionResult['dataNet'];
  corpusHash: AttributionResult['corpusHash'];
  spans?: AttributionResult['spans'];
}): AttributionResult {
  const { documents, evidence } = input;
  const m = evidence.reduce((s, e) => s + methodWeights[e.method], 0);
  const combined = new Map<number, number>();
  const dists: Map<number, number>[] = [];
  let coverage = 0;
  for (const e of evidence) {
    const dist = normalized(e.weights);
    dists.push(dist);
    const c = dist.size > 0 ? Math.min(1, Math.max(0, e.coverage)) : 0;
    const share = methodWeights[e.method] / m;
    coverage += c * share;
    for (const [doc, w] of dist) combined.set(doc, (combined.get(doc) ?? 0) + c * w * share);
  }
  const byId = new Map<string, { document: CorpusDocument; weight: number }>();
  for (const [doc, weight] of [...combined].sort(([a], [b]) => a - b)) {
    const document = at(documents, doc);
    byId.set(document.id, { document, weight });
  }
  const attributedPpm = byId.size > 0 ? Math.min(PPM, Math.round(coverage * PPM)) : 0;
  const ppm = toPpm(new Map([...byId].map(([id, v]) => [id, v.weight])), attributedPpm);
  const contributions: ContributionShare[] = [];
  const sharesPpm: Record<string, number> = {};
  for (const [id, v] of byId) {
    const share = ppm.get(id) ?? 0;
    if (share === 0) continue;
    const { contributor } = v.document;
    contributions.push({ id, contributor, score: round(v.weight), ppm: share });
    sharesPpm[contributor] = (sharesPpm[contributor] ?? 0) + share;
  }
  contributions.sort((a, b) => b.ppm - a.ppm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const given = contributions.reduce((s, c) => s + c.ppm, 0);
  return {
    version: 2,
    methods: evidence.map((e) => e.method),
    corpusHash: input.corpusHash,
    dataNet: input.dataNet,
    contributions,
    sharesPpm: Object.fromEntries(Object.entries(sharesPpm).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    unattributedPpm: PPM - given,
    confidence: round(coverage * agreement(dists.filter((d) => d.size > 0))),
    spans: input.spans ?? [],
  };
}
