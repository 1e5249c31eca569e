import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeText, normalizeValue, textOf } from './normalize.js';

describe('normalizeText', () => {
  it('composes to NFC, unifies line ends and strips invisible characters and stray whitespace', () => {
    expect(normalizeText('  Cafe\u0301  ')).toBe('Café');
    expect(normalizeText('a\r\nb  \r\n')).toBe('a\nb');
    expect(normalizeText('\uFEFFzero\u200Bwidth\u0007')).toBe('zerowidth');
    expect(normalizeText('\n\n    indented code\n  more\n\n')).toBe('    indented code\n  more');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite' }), fc.string(), (a, b) => {
        const s = a + b;
        expect(normalizeText(normalizeText(s))).toBe(normalizeText(s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('normalizeValue and textOf', () => {
  it('normalizes every string, keys included, and reads text in key order', () => {
    const v = normalizeValue({ ' b ': ['x\r\n', 2], a: ' Cafe\u0301 ' });
    expect(v).toEqual({ b: ['x', 2], a: 'Café' });
    expect(textOf(v)).toBe('Café\nx');
  });
});
