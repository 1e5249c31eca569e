import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32, cidFromSha256, cidOf, hashObject, keccak256, sha256 } from './hash.js';

describe('hashing', () => {
  it('computes the well-known CIDv1 of empty content', () => {
    expect(cidOf(new Uint8Array())).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
  });

  it('finds the CID of bytes from their sha-256', () => {
    const bytes = new TextEncoder().encode('adapter bytes');
    expect(cidFromSha256(`0x${Buffer.from(sha256(bytes)).toString('hex')}`)).toBe(cidOf(bytes));
    expect(() => cidFromSha256('0x12')).toThrow('Not a sha-256 hex digest: 0x12');
  });

  it('matches RFC 4648 base32 test vectors (lower case, unpadded)', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [input, expected] of vectors) expect(base32(new TextEncoder().encode(input))).toBe(expected);
  });

  it('hashes keccak256 of strings as their UTF-8 bytes', () => {
    expect(keccak256('')).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it('gives structurally equal objects the same hash whatever their key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.bigInt())), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(hashObject(reversed)).toBe(hashObject(obj));
      }),
    );
  });
});
