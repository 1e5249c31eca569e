import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonErrorOffset, lineColumn, parseJson } from './json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth, writes bigints as strings and drops undefined', () => {
    expect(canonicalJson({ b: 1n, a: { d: [3, undefined], c: undefined } })).toBe('{"a":{"d":[3,null]},"b":"1"}');
  });

  it('refuses values JSON cannot represent, naming the path', () => {
    expect(() => canonicalJson({ x: [1, Number.NaN] })).toThrow(
      'canonicalJson: $.x[1] is NaN, which JSON cannot represent',
    );
    expect(() => canonicalJson({ b: new Uint8Array(1) })).toThrow(
      'canonicalJson: $.b is bytes; encode it as hex first',
    );
  });
});

describe('parseJson', () => {
  it('reports the line, column and character of syntax errors', () => {
    expect(parseJson('{"a":\n  tru}')).toEqual({ ok: false, reason: 'unexpected "}"', line: 2, column: 6 });
    expect(parseJson('{\n  "port": 1,\n  }')).toEqual({ ok: false, reason: 'unexpected "}"', line: 3, column: 3 });
    expect(parseJson('[1, 2')).toEqual({ ok: false, reason: 'unexpected end of input', line: 1, column: 6 });
    expect(parseJson('{"a": 1} x')).toEqual({ ok: false, reason: 'unexpected "x"', line: 1, column: 10 });
    expect(parseJson('"\\q"')).toEqual({ ok: false, reason: 'unexpected "q"', line: 1, column: 3 });
    expect(parseJson('[1]')).toEqual({ ok: true, value: [1] });
  });

  it('accepts exactly what JSON.parse accepts', () => {
    const valid = fc.json();
    fc.assert(
      fc.property(valid, (text) => {
        expect(jsonErrorOffset(text)).toBe(text.length);
      }),
    );
    // Any corruption JSON.parse rejects is located inside the text.
    fc.assert(
      fc.property(valid, fc.nat(), fc.constantFrom('}', ']', ',', ':', 'x', '"'), (text, at, ch) => {
        const pos = at % (text.length + 1);
        const bad = text.slice(0, pos) + ch + text.slice(pos);
        let parses = true;
        try {
          JSON.parse(bad);
        } catch {
          parses = false;
        }
        if (parses) expect(jsonErrorOffset(bad)).toBe(bad.length);
        else expect(jsonErrorOffset(bad)).toBeLessThanOrEqual(bad.length);
      }),
    );
  });

  it('maps offsets to 1-based lines and columns', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
