import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { baseModelFromGguf, bundledBaseModel } from '../engine/index.js';
import { type GamingCaseResult, gamingCases, runGamingCases } from './gaming-cases.js';
import { spanTokenizerOf } from './model-tokenizer.js';

// The node's settings and tokenizer: the bundled base model's, read once.
const tokenizer = spanTokenizerOf(baseModelFromGguf(readFileSync(bundledBaseModel.path)).vocab);

describe('span payment under gaming (production attributor, bundled tokenizer, span and span+rag)', () => {
  let results: Map<string, GamingCaseResult>;
  beforeAll(async () => {
    results = new Map((await runGamingCases(tokenizer)).map((r) => [r.name, r]));
  }, 120_000);
  const held = (name: string) => {
    const r = results.get(name);
    expect(r, name).toBeDefined();
    expect(r?.held, `${name}: ${JSON.stringify(r?.figures)}`).toBe(true);
    return r?.figures ?? {};
  };

  it('runs all six cases, each under both method sets', () => {
    expect([...results.keys()]).toEqual(gamingCases.map((c) => c.name));
  });

  it("a thief who copies the victim's sentence and adds one word of the answer gets at most half", () => {
    const f = held('copy-with-context thief gets at most 50%');
    expect(Object.keys(f)).toEqual(['span', 'span+rag']);
  });

  it("a griefer whose one row repeats the victim's sentence 11 times cannot push the victim below half", () => {
    held('an 11-copy griefer cannot push the victim below 50%');
  });

  it('three identical copies uploaded by one account after the original earn nothing', () => {
    expect(held('copies identical to an earlier contribution earn nothing')).toEqual({ span: 0, 'span+rag': 0 });
  });

  it('a refrain repeated 11 times inside its own song is still credited to its writer', () => {
    const f = held('a refrain repeated in one document is still credited');
    expect(f.span).toBeGreaterThanOrEqual(500_000);
  });

  it('a license line pasted by 10+ contributors pays <= 10% in 20-200 rows, and by fewer is split equally, with no cliff at 10/11', () => {
    const f = held('a license line shared by >= 10 contributors pays <= 10%, by fewer is split equally');
    for (const size of [20, 50, 100, 200]) {
      const total = (sharers: number) => f[`${size} rows, ${sharers} sharers, span`] ?? Number.NaN;
      // Smooth: each extra sharer lowers the line's total pay; nothing jumps from paid to unpaid.
      expect(total(9)).toBeGreaterThan(total(10));
      expect(total(10)).toBeGreaterThan(total(11));
      expect(total(11)).toBeGreaterThan(0);
      expect(total(3)).toBeGreaterThan(total(5));
    }
  });

  it("a generic sentence made of the corpus's stock phrases pays <= 10% in 20, 50, 100 and 200 rows", () => {
    held('a generic sentence pays <= 10% in total');
  });
});
