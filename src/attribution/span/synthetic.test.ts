import { describe, expect, it } from 'vitest';
import { buildSpanIndex } from './build.js';
import { spanIndexFromData } from './span-index.js';
import { syntheticCorpus } from './synthetic.js';
import { createWordTokenizer } from './tokenizer.js';

describe('synthetic text-like corpus', () => {
  it('is deterministic, in range, and has the long repeats real corpora have', async () => {
    const a = syntheticCorpus({ tokens: 200_000, seed: 3 });
    expect(syntheticCorpus({ tokens: 200_000, seed: 3 })).toEqual(a);
    expect(a.tokens.length).toBe(200_000);
    expect(a.starts[0]).toBe(0);
    expect(a.starts[a.starts.length - 1]).toBe(200_000);
    expect(a.tokens.every((t) => t < 32_000)).toBe(true);
    const docs = Array.from({ length: a.starts.length - 1 }, (_, d) => ({
      contributionId: `c${d}`,
      contributor: 'a',
      tokens: a.tokens.subarray(a.starts[d]!, a.starts[d + 1]!),
    }));
    const index = spanIndexFromData(buildSpanIndex({ documents: docs, tokenizerId: 'synthetic' }));
    // Some 64-token window of a later document occurs elsewhere too (boilerplate, quotes or duplicates).
    const matches = await index.longestMatches(a.tokens.subarray(a.starts[200]!, a.starts[260]!));
    expect(matches.some((m) => m.length >= 64 && m.count >= 2)).toBe(true);
  });
});

describe('word tokenizer', () => {
  it('maps pieces to stable ids below the separator', () => {
    const t = createWordTokenizer();
    const ids = Array.from(t.encode('Copper kettles, 42 of them: traded!'));
    expect(ids).toHaveLength(9);
    expect(Array.from(createWordTokenizer().encode('Copper kettles, 42 of them: traded!'))).toEqual(ids);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 0xffff)).toBe(true);
    expect(t.decode?.(ids)).toBe('Copper kettles , 42 of them : traded !');
  });
});
