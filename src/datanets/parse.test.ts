import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, formatFromName, parseRows } from './parse.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('parseRows', () => {
  it('reads JSONL rows with their line numbers and keeps good rows around bad ones', () => {
    const input = new Uint8Array([
      ...bytes('{"q":"a"}\n\n{"q": \n[1,2]\n'),
      0xff,
      ...bytes('{"q":"x"}\n{"q":"b"}\r\n'),
    ]);
    const r = parseRows(input, { format: 'jsonl' });
    expect(r.rows).toEqual([
      { line: 1, data: { q: 'a' } },
      { line: 6, data: { q: 'b' } },
    ]);
    expect(r.errors).toEqual([
      { line: 3, reason: 'json', message: 'line 3: invalid JSON at column 7: unexpected end of input' },
      { line: 4, reason: 'not_object', message: 'line 4: expected a JSON object, got an array' },
      { line: 5, reason: 'utf8', message: 'line 5: byte 1 of the line is not valid UTF-8 (0xff)' },
    ]);
  });

  it('reads CSV records keyed by the header, with the line each starts on', () => {
    const r = parseRows(bytes('term,gloss\nsun,"the star\nwe orbit"\nmoon,satellite\n'), { format: 'csv' });
    expect(r.rows).toEqual([
      { line: 2, data: { term: 'sun', gloss: 'the star\nwe orbit' } },
      { line: 4, data: { term: 'moon', gloss: 'satellite' } },
    ]);
  });

  it('names the line of a malformed CSV record', () => {
    const r = parseRows(bytes('a,b\n1,2\n3,4,5\n'), { format: 'csv' });
    expect(r.errors[0]?.line).toBe(3);
    expect(r.errors[0]?.reason).toBe('csv');
  });

  it('refuses a text file with invalid UTF-8, naming line and byte', () => {
    const r = parseRows(new Uint8Array([...bytes('ok\nstill ok\n'), 0xc3, 0x28]), { format: 'text' });
    expect(r.errors).toEqual([{ line: 3, reason: 'utf8', message: 'line 3: byte 12 is not valid UTF-8 (0xc3)' }]);
  });

  it('splits text into documents or paragraphs', () => {
    const text = bytes('# Title\n\nFirst para\nstill first.\n\n\nSecond.\n');
    expect(parseRows(text, { format: 'markdown' }).rows).toHaveLength(1);
    expect(parseRows(text, { format: 'markdown', split: 'paragraph' }).rows).toEqual([
      { line: 1, data: { text: '# Title' } },
      { line: 3, data: { text: 'First para\nstill first.' } },
      { line: 7, data: { text: 'Second.' } },
    ]);
  });

  it('knows formats by extension', () => {
    expect(['a.jsonl', 'b.NDJSON', 'c.csv', 'd.md', 'e.txt', 'f.bin'].map(formatFromName)).toEqual([
      'jsonl',
      'jsonl',
      'csv',
      'markdown',
      'text',
      undefined,
    ]);
  });
});

describe('firstInvalidUtf8', () => {
  it('agrees with a fatal TextDecoder on random bytes', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    for (let n = 0; n < 3000; n++) {
      const len = 1 + (n % 9);
      const b = Uint8Array.from({ length: len }, (_, i) => (n * 131 + i * 197 + (n >> 3) * i * 61) & 0xff);
      let valid = true;
      try {
        fatal.decode(b);
      } catch {
        valid = false;
      }
      expect(firstInvalidUtf8(b) === -1).toBe(valid);
    }
  });

  it('rejects overlong forms, surrogates and truncated sequences', () => {
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xed, 0xa0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xe2, 0x82]))).toBe(2);
    expect(firstInvalidUtf8(bytes('héllo ✓ 😀'))).toBe(-1);
  });
});
