import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { checkAttribution, PPM, toPpm } from './result.js';

describe('toPpm', () => {
  it('gives integers summing exactly to the total, proportional within one unit, deterministically', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 1e6, noNaN: true }), {
          minKeys: 1,
        }),
        fc.integer({ min: 0, max: PPM }),
        (w, total) => {
          const weights = new Map(Object.entries(w));
          const ppm = toPpm(weights, total);
          const sum = [...ppm.values()].reduce((a, b) => a + b, 0);
          const weightSum = [...weights.values()].filter((x) => x > 0).reduce((a, b) => a + b, 0);
          expect(sum).toBe(weightSum > 0 ? total : 0);
          for (const [k, v] of ppm)
            expect(Math.abs(v - ((weights.get(k) ?? 0) / weightSum) * total)).toBeLessThanOrEqual(1);
          expect([...toPpm(new Map([...weights].reverse()), total)]).toEqual([...ppm]);
        },
      ),
    );
  });
});

describe('checkAttribution', () => {
  it('accepts shares that sum to a million and names the sum otherwise', () => {
    checkAttribution({ sharesPpm: { a: 600_000 }, unattributedPpm: 400_000 });
    expect(errorOf(() => checkAttribution({ sharesPpm: { a: 600_000 }, unattributedPpm: 300_000 })).message).toBe(
      'Attribution shares sum to 900000 ppm; they must sum to exactly 1000000 with the unattributed share',
    );
    expect(errorOf(() => checkAttribution({ sharesPpm: { a: 0.5 }, unattributedPpm: 999_999.5 })).message).toBe(
      'Attribution shares must be non-negative integers (parts per million)',
    );
  });
});
