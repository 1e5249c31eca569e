/**
 * English word vectors for matching words of similar meaning (models/WORD_VECTORS.md; rebuilt by
 * `npm run build:word-vectors`).
 *
 * File format "TWV1", little-endian: magic `TWV1`, u32 word count, u32 dims, u32 byte length of the words blob,
 * the words blob (UTF-8, words joined by "\n"), then per word in the same order an f32 scale and `dims` int8
 * values (component = int8 × scale). Per-word int8 keeps the file at ~5.6 MB for 50k words, with cosines within
 * 0.004 of the float originals.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseError } from '../../core/index.js';

export interface WordVectors {
  readonly dims: number;
  readonly size: number;
  /** Unit-length float32 vector of an exact (lower-case) word, or undefined when the word is not in the set. */
  vector(word: string): Float32Array | undefined;
}

/** Absolute path; src/attribution/rag and dist/attribution/rag both sit three levels below the repository root. */
export const bundledWordVectorsPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'models',
  'word-vectors-50k.bin',
);

const magic = 'TWV1';
const headerBytes = 16;

/** Encodes words and their float vectors as a TWV1 file, quantising each vector with its own scale. */
export function writeWordVectors(words: readonly string[], vectors: readonly ArrayLike<number>[]): Uint8Array {
  if (words.length !== vectors.length) {
    throw new BaseError('INVALID_ARGUMENT', `${words.length} words but ${vectors.length} vectors`);
  }
  const dims = vectors[0]?.length ?? 0;
  const seen = new Set<string>();
  for (const w of words) {
    // The blob is split on "\n" when read, so an empty word or one with a newline would shift every later word.
    if (w.length === 0 || w.includes('\n'))
      throw new BaseError('INVALID_ARGUMENT', `invalid word ${JSON.stringify(w)}`);
    if (seen.has(w)) throw new BaseError('INVALID_ARGUMENT', `duplicate word ${JSON.stringify(w)}`);
    seen.add(w);
  }
  const blob = new TextEncoder().encode(words.join('\n'));
  const stride = 4 + dims;
  const out = new Uint8Array(headerBytes + blob.length + words.length * stride);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(magic), 0);
  view.setUint32(4, words.length, true);
  view.setUint32(8, dims, true);
  view.setUint32(12, blob.length, true);
  out.set(blob, headerBytes);
  let at = headerBytes + blob.length;
  for (const [i, v] of vectors.entries()) {
    if (v.length !== dims) {
      throw new BaseError(
        'INVALID_ARGUMENT',
        `vector of ${JSON.stringify(words[i])} has ${v.length} dims, not ${dims}`,
      );
    }
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(v[d] ?? 0));
    // Quantise against the scale as stored (float32), so reading back reproduces exactly what was rounded.
    const scale = Math.fround(max / 127);
    view.setFloat32(at, scale, true);
    for (let d = 0; d < dims; d++) {
      const q = scale === 0 ? 0 : Math.round((v[d] ?? 0) / scale);
      view.setInt8(at + 4 + d, Math.max(-127, Math.min(127, q)));
    }
    at += stride;
  }
  return out;
}

function invalid(message: string, details: Record<string, unknown> = {}): BaseError {
  return new BaseError('MODEL_INVALID', `word vectors: ${message}`, { details });
}

/** Parses a TWV1 file; vectors are dequantised and normalised on first lookup. */
export function readWordVectors(bytes: Uint8Array): WordVectors {
  if (bytes.length < headerBytes) throw invalid(`file of ${bytes.length} bytes is shorter than the 16-byte header`);
  const found = new TextDecoder().decode(bytes.subarray(0, 4));
  if (found !== magic) throw invalid(`magic is ${JSON.stringify(found)}, expected "${magic}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(4, true);
  const dims = view.getUint32(8, true);
  const blobLength = view.getUint32(12, true);
  if (dims === 0 && size > 0) throw invalid(`header gives ${size} words of 0 dims`);
  const expected = headerBytes + blobLength + size * (4 + dims);
  if (bytes.length !== expected) {
    throw invalid(`file is ${bytes.length} bytes, but its header (${size} words × ${dims} dims) implies ${expected}`, {
      size,
      dims,
      blobLength,
    });
  }
  const blob = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(headerBytes, headerBytes + blobLength));
  const words = size === 0 && blob.length === 0 ? [] : blob.split('\n');
  if (words.length !== size) throw invalid(`words blob holds ${words.length} words, header says ${size}`);
  const index = new Map<string, number>();
  for (const [i, w] of words.entries()) {
    if (index.has(w)) throw invalid(`duplicate word ${JSON.stringify(w)}`);
    index.set(w, i);
  }
  const vectorsAt = headerBytes + blobLength;
  const cache = new Map<number, Float32Array>();
  return {
    dims,
    size,
    vector(word) {
      const i = index.get(word);
      if (i === undefined) return undefined;
      const cached = cache.get(i);
      if (cached) return cached;
      const at = vectorsAt + i * (4 + dims);
      // The scale cancels out in normalisation; only an all-zero vector (scale 0) has no direction.
      if (view.getFloat32(at, true) === 0) return undefined;
      const v = new Float32Array(dims);
      let norm = 0;
      for (let d = 0; d < dims; d++) {
        const q = view.getInt8(at + 4 + d);
        v[d] = q;
        norm += q * q;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) v[d] = (v[d] ?? 0) * inv;
      cache.set(i, v);
      return v;
    },
  };
}

let bundled: WordVectors | undefined;

/** The bundled 50k-word set, read on first use. */
export function bundledWordVectors(): WordVectors {
  bundled ??= readWordVectors(readFileSync(bundledWordVectorsPath));
  return bundled;
}
