import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatDocuments, sortingText } from './corpus.js';
import { suffixArrayDoubling } from './doubling.js';
import { suffixArrayIs } from './sais.js';
import { type SuffixSorter, sortSuffixes } from './sorter.js';
import { bruteRawSuffixArray, bruteSuffixArray } from './test-support/brute.js';

const docsOf = (docs: number[][]) => docs.map((tokens, i) => ({ contributionId: `c${i}`, contributor: 'a', tokens }));
const nonEmpty = (docs: number[][]) => docs.some((d) => d.length > 0);

/** Tiny alphabets, runs, and documents repeated verbatim: the cases induced sorting gets wrong first. */
const repetitiveDocs = fc
  .tuple(
    fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 6 })), { maxLength: 10 }), {
      minLength: 1,
      maxLength: 6,
    }),
    fc.array(fc.nat(), { maxLength: 4 }),
  )
  .map(([runs, copies]) => {
    const docs = runs.map((doc) => doc.flatMap(([t, len]) => Array<number>(len).fill(t)));
    return [...docs, ...copies.map((c) => docs[c % docs.length]!)];
  })
  .filter(nonEmpty);

const randomDocs = fc
  .array(fc.array(fc.integer({ min: 0, max: 65_534 }), { maxLength: 40 }), { minLength: 1, maxLength: 8 })
  .filter(nonEmpty);

const sorters: SuffixSorter[] = ['js', 'wasm'];

describe.each(sorters)('SA-IS over documents (%s)', (sorter) => {
  const sa = (docs: number[][]) => Array.from(sortSuffixes(concatDocuments(docsOf(docs)), sorter));

  it('matches a brute-force sort on random documents', () => {
    fc.assert(
      fc.property(randomDocs, (docs) => {
        expect(sa(docs)).toEqual(bruteSuffixArray(docs));
      }),
      { numRuns: 200 },
    );
  });

  it('matches a brute-force sort on repetitive documents', () => {
    fc.assert(
      fc.property(repetitiveDocs, (docs) => {
        expect(sa(docs)).toEqual(bruteSuffixArray(docs));
      }),
      { numRuns: 300 },
    );
  });

  it('sorts one long run and many one-token documents', () => {
    const run = [Array<number>(500).fill(7)];
    expect(sa(run)).toEqual(bruteSuffixArray(run));
    const singles = Array.from({ length: 300 }, (_, i) => [i % 3]);
    expect(sa(singles)).toEqual(bruteSuffixArray(singles));
  });
});

describe('suffix sorting of raw texts (SA-IS and the prefix-doubling baseline)', () => {
  const text = fc
    .tuple(fc.integer({ min: 2, max: 300 }), fc.array(fc.nat(), { maxLength: 120 }))
    .map(([k, xs]) => ({ k, text: Int32Array.from([...xs.map((x) => 1 + (x % (k - 1))), 0]) }));

  it('both agree with a brute-force sort, and SA-IS leaves its input as it was', () => {
    fc.assert(
      fc.property(text, ({ k, text }) => {
        const before = Array.from(text);
        const expected = bruteRawSuffixArray(text);
        expect(Array.from(suffixArrayIs(text, k))).toEqual(expected);
        expect(Array.from(text)).toEqual(before);
        expect(Array.from(suffixArrayDoubling(text, k))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('sorts mississippi', () => {
    const t = Int32Array.from([...'mississippi'].map((c) => c.charCodeAt(0)).concat(0));
    expect(Array.from(suffixArrayIs(t, 128))).toEqual([11, 10, 7, 4, 1, 0, 9, 8, 6, 3, 5, 2]);
  });

  it('WebAssembly, TypeScript and doubling agree on a larger text-like corpus', () => {
    const docs: number[][] = [];
    let x = 12345;
    const rand = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    for (let d = 0; d < 200; d++) {
      const doc: number[] = [];
      const len = 20 + Math.floor(rand() * 300);
      while (doc.length < len) {
        if (rand() < 0.1 && docs.length > 0) doc.push(...docs[Math.floor(rand() * docs.length)]!.slice(0, 40));
        else doc.push(Math.floor(1 / (rand() + 0.002)));
      }
      docs.push(doc);
    }
    const stream = concatDocuments(docsOf(docs));
    const wasm = sortSuffixes(stream, 'wasm');
    expect(Array.from(sortSuffixes(stream, 'js'))).toEqual(Array.from(wasm));
    const { text, alphabet } = sortingText(stream);
    expect(Array.from(suffixArrayDoubling(text, alphabet).subarray(1, 1 + stream.tokenCount))).toEqual(
      Array.from(wasm),
    );
  });
});

describe('the committed WebAssembly module', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const clang = ['/usr/bin/clang-14', '/usr/bin/clang'].find((c) => existsSync(c));
  it.skipIf(!clang)('is what wasm/build.sh makes from wasm/sais.c', () => {
    expect(execFileSync('bash', [join(here, 'wasm', 'build.sh'), '--check'], { encoding: 'utf8' })).toContain(
      'sais-wasm.ts matches sais.c',
    );
  });
});
