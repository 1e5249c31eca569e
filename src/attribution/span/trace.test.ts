import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../test/fixtures/errors.js';
import { buildSpanIndex, buildSpanIndexFromTexts } from './build.js';
import { spanIndexFromData } from './span-index.js';
import { bruteCount, bruteLongest, bruteOccurrences } from './test-support/brute.js';
import { createWordTokenizer } from './tokenizer.js';

const who = ['0x1111', '0x2222', '0x3333', '0x4444'];
const facts = [
  'The lighthouse keeper of Varnholm counted exactly forty-two gulls every dawn.',
  'Copper kettles from Ostrava were traded for saffron at the autumn fair.',
  'The glacier above Lindqvist valley retreated nine meters in one summer.',
  'Marguerite repaired violins with glue made from quince seeds.',
];

/** Like the acceptance corpus: shared boilerplate, one planted fact per contributor, one phrase planted 7 times. */
function archive() {
  const rows: { contributionId: string; contributor: string; text: string }[] = [];
  const add = (contributor: string, text: string) =>
    rows.push({ contributionId: `c${rows.length}`, contributor, text });
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 20; k++) {
      add(who[i]!, `This entry was contributed to the shared archive. Entry number ${k} follows the usual format.`);
    }
    add(who[i]!, facts[i]!);
  }
  for (let k = 0; k < 7; k++) add(who[k % 4]!, 'Note: the amber signal lamp flickered twice before dusk.');
  const tokenizer = createWordTokenizer();
  return {
    rows,
    tokenizer,
    index: spanIndexFromData(buildSpanIndexFromTexts({ documents: rows, tokenizer }), tokenizer),
  };
}

describe('tracing an output to the corpus', () => {
  it('maps a planted sentence to its contribution, contributor and position', async () => {
    const { index } = archive();
    const trace = await index.traceText('Today: Marguerite repaired violins with glue made from quince seeds.');
    expect(trace.outputTokens).toBe(12);
    expect(trace.spans).toEqual([
      {
        start: 2,
        end: 12,
        length: 10,
        count: 1,
        documentCount: 1,
        logProb: expect.any(Number),
        documents: [{ document: 83, contributionId: 'c83', contributor: '0x4444', positions: [0] }],
        text: 'Marguerite repaired violins with glue made from quince seeds .',
      },
    ]);
  });

  it('drops spans more frequent than maxSpanFrequency and lists at most documentsPerSpan documents', async () => {
    const { index } = archive();
    const text = 'We saw the amber signal lamp flickered twice and left.';
    expect((await index.traceText(text, { maxSpanFrequency: 6 })).spans).toEqual([]);
    const [span] = (await index.traceText(text)).spans;
    expect([span?.text, span?.count, span?.documentCount, span?.documents.length]).toEqual([
      'the amber signal lamp flickered twice',
      7,
      7,
      7,
    ]);
    const few = (await index.traceText(text, { documentsPerSpan: 3 })).spans[0]!;
    expect([few.documentCount, few.documents.map((d) => [d.contributionId, d.contributor, d.positions])]).toEqual([
      7,
      [
        ['c84', '0x1111', [2]],
        ['c85', '0x2222', [2]],
        ['c86', '0x3333', [2]],
      ],
    ]);
  });

  it('keeps at most ceil(spanDensity × output tokens) spans, the rarest first, reported in output order', async () => {
    const { index } = archive();
    const text = facts.join(' ');
    const all = await index.traceText(text, { spanDensity: 1 });
    expect(all.outputTokens).toBe(49);
    expect(all.spans.map((s) => s.documents[0]?.contributor)).toEqual(who);
    const dense = await index.traceText(text);
    expect(dense.spans).toHaveLength(Math.ceil(0.05 * 49));
    const rarest = [...all.spans].sort((a, b) => a.logProb - b.logProb).slice(0, 3);
    expect(dense.spans).toEqual(rarest.sort((a, b) => a.start - b.start));
  });

  it('ignores spans shorter than minSpanLength', async () => {
    const { index } = archive();
    expect((await index.traceText('quince, glue')).spans).toEqual([]);
    const single = await index.traceText('quince, glue', { minSpanLength: 1, spanDensity: 1 });
    expect(single.spans.map((s) => s.text)).toEqual(['quince', 'glue']);
  });

  it('ranks by summed unigram log-probability or by length', async () => {
    // "a b c d e f" is long but made of common tokens; "x y z" is short but rare.
    const common = [1, 2, 3, 4, 5, 6];
    const docs = [
      common,
      [100, 101, 102],
      ...Array.from({ length: 30 }, (_, i) => [1 + (i % 6), 50, 1 + ((i + 3) % 6)]),
    ];
    const index = spanIndexFromData(
      buildSpanIndex({
        documents: docs.map((tokens, i) => ({ contributionId: `c${i}`, contributor: `a${i}`, tokens })),
        tokenizerId: 't',
      }),
    );
    const output = [...common, 90, 100, 101, 102];
    const byLogProb = await index.trace(output);
    const byLength = await index.trace(output, { rankBy: 'length' });
    expect(byLogProb.spans.map((s) => [s.start, s.end])).toEqual([[7, 10]]);
    expect(byLength.spans.map((s) => [s.start, s.end])).toEqual([[0, 6]]);
    expect(byLogProb.maximalSpans).toBe(2);
  });

  it('breaks ties by fewer occurrences, then by the earlier output position', async () => {
    const docs = [
      [1, 2],
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const index = spanIndexFromData(
      buildSpanIndex({
        documents: docs.map((tokens, i) => ({ contributionId: `c${i}`, contributor: 'a', tokens })),
        tokenizerId: 't',
      }),
    );
    const pick = async (output: number[]) =>
      (await index.trace(output, { rankBy: 'length', spanDensity: 0.01 })).spans.map((s) => s.start);
    expect(await pick([1, 2, 9, 3, 4])).toEqual([3]);
    expect(await pick([5, 6, 9, 3, 4])).toEqual([0]);
  });

  it('with no filters, reports exactly the maximal spans and all their occurrences (brute force)', async () => {
    const corpus = fc
      .array(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 25 }), { minLength: 1, maxLength: 6 })
      .filter((docs) => docs.some((d) => d.length > 0));
    await fc.assert(
      fc.asyncProperty(corpus, fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 20 }), async (docs, q) => {
        const index = spanIndexFromData(
          buildSpanIndex({
            documents: docs.map((tokens, i) => ({ contributionId: `c${i}`, contributor: `w${i % 2}`, tokens })),
            tokenizerId: 't',
          }),
        );
        const open = { maxSpanFrequency: 1e9, spanDensity: 1, minSpanLength: 1, documentsPerSpan: 1e9 };
        const got = (await index.trace(q, open)).spans;
        const want: { start: number; end: number; count: number; documents: unknown[] }[] = [];
        let reach = 0;
        q.forEach((_, i) => {
          const len = bruteLongest(docs, q, i);
          if (len > 0 && i + len > reach) {
            const occurrences = bruteOccurrences(docs, q.slice(i, i + len));
            const byDoc = new Map<number, number[]>();
            for (const [d, p] of occurrences) byDoc.set(d, [...(byDoc.get(d) ?? []), p]);
            want.push({
              start: i,
              end: i + len,
              count: bruteCount(docs, q, i, i + len),
              documents: [...byDoc].map(([d, positions]) => ({
                document: d,
                contributionId: `c${d}`,
                contributor: `w${d % 2}`,
                positions,
              })),
            });
          }
          reach = Math.max(reach, i + len);
        });
        expect(got.map(({ start, end, count, documents }) => ({ start, end, count, documents }))).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });

  it('is deterministic: two builds of the same corpus trace to identical JSON', async () => {
    const a = archive();
    const b = archive();
    const text = `${facts.join(' ')} This entry was contributed to the shared archive.`;
    for (const rankBy of ['logprob', 'length'] as const) {
      expect(JSON.stringify(await a.index.traceText(text, { rankBy, spanDensity: 0.5 }))).toBe(
        JSON.stringify(await b.index.traceText(text, { rankBy, spanDensity: 0.5 })),
      );
    }
  });

  it('refuses invalid options with the option named', async () => {
    const { index } = archive();
    expect((await rejectionOf(index.traceText('x', { spanDensity: 0 }))).message).toBe(
      'Trace option spanDensity must be in (0, 1]',
    );
    expect((await rejectionOf(index.traceText('x', { maxSpanFrequency: 0 }))).message).toBe(
      'Trace option maxSpanFrequency must be a positive integer',
    );
    expect((await rejectionOf(index.traceText('x', { documentsPerSpan: 1.5 }))).message).toBe(
      'Trace option documentsPerSpan must be a positive integer',
    );
  });
});
