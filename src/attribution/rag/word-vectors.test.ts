import { describe, expect, it } from 'vitest';
import { bundledWordVectors, readWordVectors, writeWordVectors } from './word-vectors.js';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe('word vectors', () => {
  const words = ['river', 'stream', 'café'];
  const vectors = [
    [3, 4, 0],
    [0.3, 0.41, -0.01],
    [-1, 0, 0.5],
  ];

  it('round-trips a small file to unit vectors in the direction of the originals', () => {
    const wv = readWordVectors(writeWordVectors(words, vectors));
    expect(wv.size).toBe(3);
    expect(wv.dims).toBe(3);
    for (const [i, w] of words.entries()) {
      const v = wv.vector(w)!;
      const original = Float32Array.from(vectors[i]!);
      expect(dot(v, v)).toBeCloseTo(1, 5);
      expect(dot(v, original) / Math.sqrt(dot(original, original))).toBeGreaterThan(0.999);
    }
    expect(Array.from(wv.vector('river')!)).toEqual([expect.closeTo(0.6, 2), expect.closeTo(0.8, 2), 0]);
    expect(wv.vector('river')).toBe(wv.vector('river'));
    expect(wv.vector('River')).toBeUndefined();
  });

  it('writes the same bytes for the same input', () => {
    expect(writeWordVectors(words, vectors)).toEqual(writeWordVectors(words, vectors));
  });

  it('refuses a file with the wrong magic or length, naming the problem', () => {
    const bytes = writeWordVectors(words, vectors);
    const badMagic = bytes.slice();
    badMagic[3] = 0x32;
    expect(() => readWordVectors(badMagic)).toThrow('word vectors: magic is "TWV2", expected "TWV1"');
    expect(() => readWordVectors(bytes.subarray(0, bytes.length - 1))).toThrow(
      `word vectors: file is ${bytes.length - 1} bytes, but its header (3 words × 3 dims) implies ${bytes.length}`,
    );
    expect(() => readWordVectors(bytes.subarray(0, 10))).toThrow('shorter than the 16-byte header');
    expect(() => readWordVectors(bytes.subarray(0, 10))).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });

  it('refuses words the format cannot hold', () => {
    expect(() => writeWordVectors(['a\nb'], [[1]])).toThrow('invalid word');
    expect(() => writeWordVectors(['a', 'a'], [[1], [2]])).toThrow('duplicate word "a"');
  });

  it('bundles vectors in which related words are closer', () => {
    const wv = bundledWordVectors();
    expect(wv.size).toBe(50_000);
    expect(wv.dims).toBe(100);
    const cos = (a: string, b: string) => dot(wv.vector(a)!, wv.vector(b)!);
    expect(cos('moons', 'satellites')).toBeGreaterThan(cos('moons', 'diameter'));
    expect(cos('hot', 'temperature')).toBeGreaterThan(0.4);
    expect(wv.vector('zzzzqqq')).toBeUndefined();
  });
});
