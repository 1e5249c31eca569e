import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineEvidence, methodWeights } from './combine.js';
import type { Evidence } from './evidence.js';
import { gradientEvidence, gradientNoiseFloor, ragEvidence, termHolders } from './evidence.js';
import { createBm25Index } from './rag/index.js';
import { checkAttribution, serializeAttribution } from './result.js';
import { createRng } from './span/index.js';

const documents = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, contributor: `0x${i % 3}` }));
const evidenceArb = fc.array(
  fc.record({
    method: fc.constantFrom('span' as const, 'gradient' as const, 'rag' as const),
    coverage: fc.double({ min: 0, max: 1, noNaN: true }),
    weights: fc
      .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.double({ min: 1e-6, max: 1e3, noNaN: true })), {
        maxLength: 6,
      })
      .map((pairs) => new Map(pairs)),
  }),
  { minLength: 1, maxLength: 3 },
);

const corpusHash = `0x${'ab'.repeat(32)}` as const;

describe('combineEvidence', () => {
  it('gives integer shares that sum with the unattributed share to exactly 1,000,000, the same bytes in any order of weights', () => {
    fc.assert(
      fc.property(evidenceArb, (evidence: Evidence[]) => {
        const r = combineEvidence({ documents, evidence, dataNet: null, corpusHash });
        checkAttribution(r);
        const weight = evidence.reduce((s, e) => s + methodWeights[e.method], 0);
        const coverage =
          evidence.reduce((s, e) => s + (e.weights.size > 0 ? e.coverage * methodWeights[e.method] : 0), 0) / weight;
        expect(Math.abs(1_000_000 - r.unattributedPpm - coverage * 1_000_000)).toBeLessThanOrEqual(1);
        const reversed = evidence.map((e) => ({ ...e, weights: new Map([...e.weights].reverse()) }));
        expect(
          serializeAttribution(combineEvidence({ documents, evidence: reversed, dataNet: null, corpusHash })),
        ).toBe(serializeAttribution(r));
      }),
    );
  });

  it('pays only positive gradient influence, and counts negative mass against coverage', () => {
    const e = gradientEvidence([3, -1, 0, 0, 0, 0]);
    expect([...e.weights]).toEqual([[0, 3]]);
    expect(e.coverage).toBe(0.75);
    const r = combineEvidence({ documents, evidence: [e], dataNet: null, corpusHash });
    expect(r.sharesPpm).toEqual({ '0x0': 750_000 });
    expect(r.unattributedPpm).toBe(250_000);
  });
});

describe('BM25', () => {
  const index = createBm25Index([
    { id: 'a', contributor: 'x', text: 'Saturn has rings of ice and rock.' },
    { id: 'b', contributor: 'y', text: 'Mars has two small moons, Phobos and Deimos.' },
    { id: 'c', contributor: 'z', text: 'Mars is red. Mars has dust storms. Mars!' },
  ]);

  it('a retrieved passage earns for a term only it holds, not for one an unretrieved passage holds as well', () => {
    const rows = [
      { id: 'a', contributor: 'x', text: 'Saturn has rings of ice and rock.' },
      { id: 'b', contributor: 'y', text: 'Neptune has faint rings too.' },
      { id: 'c', contributor: 'z', text: 'Mars is red.' },
    ];
    const bm25 = createBm25Index(rows);
    const corpus = {
      index: bm25,
      holders: termHolders(bm25),
      contributorOf: (d: number) => rows[d]?.contributor ?? '',
      originalOf: (d: number) => d,
      sharedSpanScale: 2,
      maxSpanContributors: 64,
    };
    const e = ragEvidence(corpus, 'ice', 'Its rings are ice.', 1);
    // "rings" is in a and b, only a was retrieved: no evidence; "ice" is a's alone: a earns it.
    expect([...e.weights]).toEqual([[0, 1]]);
    expect(e.coverage).toBeCloseTo(1 / 2, 12);
    // Both retrieved: "rings" is credited to them equally (two holders: full worth).
    const both = ragEvidence(corpus, 'ice rings', 'Its rings are ice.', 2);
    expect([...both.weights].sort(([x], [y]) => x - y)).toEqual([
      [0, 1.5],
      [1, 0.5],
    ]);
  });

  it('ranks rare matching terms first, breaks ties by corpus order, and ignores stop words', () => {
    expect(index.search('moons of Mars', 3).map((h) => h.id)).toEqual(['b', 'c']);
    expect(index.search('the of and', 3)).toEqual([]);
    expect(index.search('rings', 1).map((h) => h.id)).toEqual(['a']);
  });
});

/** Seeded standard normal draws (Box–Muller over the span tests' generator). */
function normals(seed: number, n: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
}

describe('gradient noise floor', () => {
  it('an unrelated question whose influence is flat noise over 40 rows spreads (almost) no money', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const e = gradientEvidence(normals(seed, 40));
      expect(e.coverage).toBeLessThan(0.05);
      expect(e.weights.size).toBeLessThanOrEqual(1);
    }
  });

  it('an untrained model that pushes every row the same way (a shared offset plus noise) explains nothing', () => {
    const e = gradientEvidence(normals(7, 40).map((x) => 5 + 0.5 * x));
    expect(e.coverage).toBeLessThan(0.05);
  });

  it('the few rows that stand out of the noise are credited, by their excess over the floor', () => {
    const scores = normals(9, 40).map((x, i) => (i === 3 || i === 17 ? 12 + x : x));
    const { floor } = gradientNoiseFloor(scores);
    const e = gradientEvidence(scores);
    expect([...e.weights.keys()].sort((a, b) => a - b)).toEqual([3, 17]);
    expect(e.weights.get(3)).toBeCloseTo((scores[3] ?? 0) - floor, 12);
    // Coverage: the excess over the total deviation from the median (here 38 noise rows carry most of that).
    const { median } = gradientNoiseFloor(scores);
    const deviation = scores.reduce((a, s) => a + Math.abs(s - median), 0);
    expect(e.coverage).toBeCloseTo(((scores[3] ?? 0) + (scores[17] ?? 0) - 2 * floor) / deviation, 12);
    expect(e.coverage).toBeGreaterThan(0.3);
  });
});

describe('method weights', () => {
  it('are named and versioned, and a method counts by its measured quality: span (paid LDS 0.75) outweighs gradient (0.45)', () => {
    expect(methodWeights).toEqual({ version: 'mw-2026-12b', span: 0.75, gradient: 0.45, rag: 0.75 });
    const r = combineEvidence({
      documents,
      evidence: [
        { method: 'span', coverage: 1, weights: new Map([[0, 1]]) },
        { method: 'gradient', coverage: 1, weights: new Map([[1, 1]]) },
      ],
      dataNet: null,
      corpusHash,
    });
    expect(r.contributions.map((c) => [c.id, c.ppm])).toEqual([
      ['c0', Math.round((0.75 / 1.2) * 1e6)],
      ['c1', Math.round((0.45 / 1.2) * 1e6)],
    ]);
  });
});
