/**
 * One AttributionResult from the evidence of several methods. Each method counts equally: a contribution's weight
 * is the mean over methods of (coverage × its normalized weight in that method), so the attributed share is the
 * mean coverage and the rest is explicitly unattributed. Integer ppm by the largest remainder (toPpm), scores
 * rounded to 1e-9, contributions ordered by share then id: the same evidence gives the same bytes.
 */
import type { Evidence } from './evidence.js';
import { type AttributionResult, type ContributionShare, PPM, toPpm } from './result.js';

export interface CorpusDocument {
  id: string;
  contributor: string;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

function normalized(weights: ReadonlyMap<number, number>): Map<number, number> {
  const keys = [...weights.keys()].sort((a, b) => a - b);
  const sum = keys.reduce((s, k) => s + (weights.get(k) as number), 0);
  return new Map(sum > 0 ? keys.map((k) => [k, (weights.get(k) as number) / sum]) : []);
}

/** 1 − mean pairwise total-variation distance between the methods' distributions (1 for a single method). */
function agreement(dists: Map<number, number>[]): number {
  if (dists.length < 2) return 1;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < dists.length; i++)
    for (let j = i + 1; j < dists.length; j++) {
      const a = dists[i] as Map<number, number>;
      const b = dists[j] as Map<number, number>;
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
  spans?: AttributionResult['spans'];
}): AttributionResult {
  const { documents, evidence } = input;
  const m = evidence.length;
  const combined = new Map<number, number>();
  const dists: Map<number, number>[] = [];
  let coverage = 0;
  for (const e of evidence) {
    const dist = normalized(e.weights);
    dists.push(dist);
    const c = dist.size > 0 ? Math.min(1, Math.max(0, e.coverage)) : 0;
    coverage += c / m;
    for (const [doc, w] of dist) combined.set(doc, (combined.get(doc) ?? 0) + (c * w) / m);
  }
  const byId = new Map<string, { doc: number; weight: number }>();
  for (const doc of [...combined.keys()].sort((a, b) => a - b))
    byId.set((documents[doc] as CorpusDocument).id, { doc, weight: combined.get(doc) as number });
  const attributedPpm = byId.size > 0 ? Math.min(PPM, Math.round(coverage * PPM)) : 0;
  const ppm = toPpm(new Map([...byId].map(([id, v]) => [id, v.weight])), attributedPpm);
  const contributions: ContributionShare[] = [];
  const sharesPpm: Record<string, number> = {};
  for (const [id, v] of byId) {
    const share = ppm.get(id) ?? 0;
    if (share === 0) continue;
    const contributor = (documents[v.doc] as CorpusDocument).contributor;
    contributions.push({ id, contributor, score: round(v.weight), ppm: share } as ContributionShare);
    sharesPpm[contributor] = (sharesPpm[contributor] ?? 0) + share;
  }
  contributions.sort((a, b) => b.ppm - a.ppm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const given = contributions.reduce((s, c) => s + c.ppm, 0);
  return {
    version: 1,
    methods: evidence.map((e) => e.method),
    dataNet: input.dataNet,
    contributions,
    sharesPpm: Object.fromEntries(Object.entries(sharesPpm).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    unattributedPpm: PPM - given,
    confidence: round(coverage * agreement(dists.filter((d) => d.size > 0))),
    spans: input.spans ?? [],
  };
}
