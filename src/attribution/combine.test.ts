import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { combineEvidence } from './combine.js';
import type { Evidence } from './evidence.js';
import { gradientEvidence } from './evidence.js';
import { createBm25Index } from './rag/index.js';
import { checkAttribution, serializeAttribution } from './result.js';

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
        const coverage = evidence.reduce((s, e) => s + (e.weights.size > 0 ? e.coverage : 0), 0) / evidence.length;
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

  it('ranks rare matching terms first, breaks ties by corpus order, and ignores stop words', () => {
    expect(index.search('moons of Mars', 3).map((h) => h.id)).toEqual(['b', 'c']);
    expect(index.search('the of and', 3)).toEqual([]);
    expect(index.search('rings', 1).map((h) => h.id)).toEqual(['a']);
  });
});
