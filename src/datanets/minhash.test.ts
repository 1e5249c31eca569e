import { describe, expect, it } from 'vitest';
import { LshIndex, minhash, similarity } from './minhash.js';

/** Exact Jaccard similarity of character 5-gram sets, the quantity MinHash estimates. */
function jaccard(a: string, b: string): number {
  const grams = (s: string) => {
    const t = s.toLowerCase().replace(/\s+/g, ' ').trim();
    return new Set(Array.from({ length: Math.max(1, t.length - 4) }, (_, i) => t.slice(i, i + 5)));
  };
  const A = grams(a);
  const B = grams(b);
  let inter = 0;
  for (const g of A) if (B.has(g)) inter++;
  return inter / (A.size + B.size - inter);
}

const base = 'The quick brown fox jumps over the lazy dog while the cat watches from the warm windowsill.';

describe('MinHash', () => {
  it('estimates Jaccard similarity within a few hundredths', () => {
    const variants = [
      base,
      base.replace('quick', 'slow'),
      base.replace('lazy dog', 'sleepy hound'),
      base.slice(0, 50),
      'Completely different words here about astronomy.',
    ];
    for (const v of variants)
      expect(Math.abs(similarity(minhash(base), minhash(v)) - jaccard(base, v))).toBeLessThan(0.12);
  });

  it('finds a near duplicate through LSH and ignores unrelated texts', () => {
    const index = new LshIndex<string>();
    index.add('a', minhash(base));
    index.add('b', minhash('Photosynthesis converts light energy into chemical energy stored in glucose molecules.'));
    const hit = index.nearest(minhash(`${base} `.replace('quick', 'quick,')), 0.8);
    expect(hit?.id).toBe('a');
    expect(index.nearest(minhash('An unrelated sentence about tax law and its many exceptions.'), 0.5)).toBeUndefined();
    index.remove('a');
    expect(index.nearest(minhash(base), 0.8)).toBeUndefined();
    expect(index.size).toBe(1);
  });
});
