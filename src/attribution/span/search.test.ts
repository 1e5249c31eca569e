import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf, rejectionOf } from '../../../test/fixtures/errors.js';
import { buildSpanIndex } from './build.js';
import { concatDocuments } from './corpus.js';
import { MAX_QUERY_TOKENS, spanIndexFromData } from './span-index.js';
import { bruteCount, bruteLongest } from './test-support/brute.js';

const docsOf = (docs: number[][]) => docs.map((tokens, i) => ({ contributionId: `c${i}`, contributor: 'a', tokens }));
const indexOf = (docs: number[][]) => spanIndexFromData(buildSpanIndex({ documents: docsOf(docs), tokenizerId: 't' }));

/** Small alphabets so that patterns hit often; a few documents repeat. */
const corpus = fc
  .array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }), { minLength: 1, maxLength: 6 })
  .filter((docs) => docs.some((d) => d.length > 0));
const query = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 });

describe('n-gram count', () => {
  it('equals a brute-force count within documents', async () => {
    await fc.assert(
      fc.asyncProperty(corpus, fc.array(query, { minLength: 1, maxLength: 10 }), async (docs, queries) => {
        const index = indexOf(docs);
        for (const q of queries) expect(await index.count(q)).toBe(bruteCount(docs, q));
      }),
      { numRuns: 150 },
    );
  });

  it('never counts a match across a document boundary', async () => {
    const index = indexOf([
      [1, 2, 3],
      [4, 5, 6],
      [3, 4],
    ]);
    expect(await index.count([3, 4])).toBe(1);
    expect(await index.count([2, 3, 4])).toBe(0);
    expect(await index.count([3])).toBe(2);
    expect(await index.count([6, 3])).toBe(0);
    expect(await index.count([])).toBe(8);
  });

  it('counts text through the bound tokenizer, and refuses bad ids and oversized queries', async () => {
    const index = indexOf([[1, 2]]);
    expect((await rejectionOf(index.count([1, 65_535]))).message).toBe('Token id 65535 is out of range (0..65534)');
    expect((await rejectionOf(index.count([1.5]))).message).toBe('Token id 1.5 is out of range (0..65534)');
    const big = new Uint16Array(MAX_QUERY_TOKENS + 1);
    const e = await rejectionOf(index.count(big));
    expect([e.code, e.message]).toEqual(['PAYLOAD_TOO_LARGE', 'A span query holds at most 100000 tokens']);
    expect((await rejectionOf(index.countText('x'))).message).toBe(
      'This span index has no tokenizer to encode text with',
    );
  });
});

describe('building', () => {
  it('refuses an empty corpus, a document without contributor and out-of-range tokens', () => {
    expect(errorOf(() => concatDocuments([])).message).toBe('Cannot build a span index from an empty corpus');
    expect(errorOf(() => buildSpanIndex({ documents: docsOf([[], []]), tokenizerId: 't' })).message).toBe(
      'Cannot build a span index from an empty corpus',
    );
    const noContributor = [{ contributionId: 'c0', contributor: '', tokens: [1] }];
    expect(errorOf(() => concatDocuments(noContributor)).message).toBe('Document 0 has no contributor');
    const e = errorOf(() => concatDocuments(docsOf([[1], [2, 65_535]])));
    expect([e.code, e.message, e.details]).toEqual([
      'INVALID_ARGUMENT',
      'Token id 65535 is out of range (0..65534)',
      { document: 1, index: 1, value: 65_535, max: 65_534 },
    ]);
    expect(errorOf(() => concatDocuments(docsOf([[-1]]))).message).toBe('Token id -1 is out of range (0..65534)');
    expect(errorOf(() => concatDocuments([{ ...docsOf([[1]])[0]!, tokens: Uint16Array.of(65_535) }])).message).toBe(
      'Token id 65535 is out of range (0..65534)',
    );
  });
});

describe('longest matches (∞-gram)', () => {
  it('gives, at each position, the longest prefix that occurs and its count', async () => {
    await fc.assert(
      fc.asyncProperty(corpus, fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 20 }), async (docs, q) => {
        const got = await indexOf(docs).longestMatches(q);
        const want = q.map((_, i) => {
          const length = bruteLongest(docs, q, i);
          return { length, count: length === 0 ? 0 : bruteCount(docs, q, i, i + length) };
        });
        expect(got).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('backs off to the longest context suffix that continues, like infini-gram', async () => {
    await fc.assert(
      fc.asyncProperty(corpus, query, fc.integer({ min: 0, max: 3 }), async (docs, context, next) => {
        // Brute force: occurrences of a suffix followed by a token inside the same document.
        const continued = (s: number[]) =>
          docs.reduce((n, d) => {
            let c = 0;
            for (let i = 0; i + s.length < d.length; i++) if (s.every((t, k) => d[i + k] === t)) c++;
            return n + c;
          }, 0);
        let k = context.length;
        while (k > 0 && continued(context.slice(context.length - k)) === 0) k--;
        const suffix = context.slice(context.length - k);
        const contextCount = continued(suffix);
        const nextCount = bruteCount(docs, [...suffix, next]);
        expect(await indexOf(docs).infiniGram(context, next)).toEqual({
          contextLength: k,
          contextCount,
          nextCount,
          probability: nextCount / contextCount,
        });
      }),
      { numRuns: 150 },
    );
  });
});
