/**
 * The gradient index on disk: one file, `gradient-index.bin`, written atomically (temporary file, then rename):
 *   magic      8 bytes  "TRBGRAD1"
 *   length     u32 LE   bytes of the header
 *   header     canonical JSON: version, model identity, projection, damping, λ, gradientDim, examples
 *   padding    zeros up to a multiple of 8
 *   features   n·k float32 LE
 *   cholesky   k·k float64 LE
 *   checksum   32 bytes: sha-256 of everything before it
 * Loading checks the size the header implies (truncation) and the checksum (corruption) before trusting anything.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { BaseError, canonicalJson } from '../../core/index.js';
import {
  GRADIENT_INDEX_VERSION,
  type GradientIndexHeader,
  gradientIndexHeader,
  jsonObject,
} from '../../protocol/index.js';
import type { GradientIndex } from './gradient-index.js';

export const GRADIENT_INDEX_FILE = 'gradient-index.bin';
const MAGIC = 'TRBGRAD1';
const PREFIX = 12;
const CHECKSUM = 32;

function checkByteOrder(): void {
  if (endianness() !== 'LE') {
    throw new BaseError('INTERNAL', 'Gradient index files are little-endian; this machine is big-endian');
  }
}

const padTo8 = (n: number) => (8 - (n % 8)) % 8;

/** The file's bytes. */
export function encodeGradientIndex(index: GradientIndex): Uint8Array {
  checkByteOrder();
  const header: GradientIndexHeader = {
    version: index.version,
    model: index.model,
    gradientDim: index.gradientDim,
    projection: index.projection,
    damping: index.damping,
    lambda: index.lambda,
    examples: index.examples,
  };
  const json = new TextEncoder().encode(canonicalJson(header));
  const headerEnd = PREFIX + json.length + padTo8(PREFIX + json.length);
  const total = headerEnd + index.features.byteLength + index.cholesky.byteLength + CHECKSUM;
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, PREFIX);
  out.set(new Uint8Array(index.features.buffer, index.features.byteOffset, index.features.byteLength), headerEnd);
  out.set(
    new Uint8Array(index.cholesky.buffer, index.cholesky.byteOffset, index.cholesky.byteLength),
    headerEnd + index.features.byteLength,
  );
  out.set(
    createHash('sha256')
      .update(out.subarray(0, total - CHECKSUM))
      .digest(),
    total - CHECKSUM,
  );
  return out;
}

const invalid = (message: string, details: Record<string, unknown> = {}) =>
  new BaseError('INDEX_INVALID', message, { details: { file: GRADIENT_INDEX_FILE, ...details } });

/**
 * Bytes [start, end) copied into a fresh buffer, so the arrays over it are aligned whatever the input's offset, and
 * own their memory whatever its class (a Node Buffer's `slice` would share it).
 */
function copyOf(bytes: Uint8Array, start: number, end: number): ArrayBuffer {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out.buffer;
}

/** Parses and verifies the file's bytes. */
export function decodeGradientIndex(bytes: Uint8Array): GradientIndex {
  checkByteOrder();
  if (bytes.length < PREFIX) throw invalid(`Gradient index file is truncated: ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw invalid('Gradient index file is not a gradient index (bad magic)');
  }
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (bytes.length < PREFIX + jsonLength) throw invalid(`Gradient index file is truncated: ${bytes.length} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX, PREFIX + jsonLength)));
  } catch {
    throw invalid('Gradient index file is corrupt: its header is not JSON');
  }
  const parsed = gradientIndexHeader.safeParse(value);
  if (!parsed.success) {
    // Another version may have another header: say which, rather than that it is malformed.
    const object = jsonObject.safeParse(value);
    if (object.success && object.data.version !== GRADIENT_INDEX_VERSION) {
      throw invalid(
        `Gradient index format version ${String(object.data.version)} is not supported (expected ${GRADIENT_INDEX_VERSION})`,
      );
    }
    throw invalid('Gradient index file is corrupt: its header is malformed');
  }
  const header = parsed.data;
  const n = header.examples.length;
  const k = header.projection.dim;
  const headerEnd = PREFIX + jsonLength + padTo8(PREFIX + jsonLength);
  const expected = headerEnd + 4 * n * k + 8 * k * k + CHECKSUM;
  if (bytes.length !== expected) {
    throw invalid(
      `Gradient index file is ${bytes.length < expected ? 'truncated' : 'corrupt'}: expected ${expected} bytes, found ${bytes.length}`,
      { expected, found: bytes.length },
    );
  }
  const digest = createHash('sha256')
    .update(bytes.subarray(0, expected - CHECKSUM))
    .digest();
  if (!digest.equals(bytes.subarray(expected - CHECKSUM)))
    throw invalid('Gradient index file is corrupt: checksum mismatch');
  const features = new Float32Array(copyOf(bytes, headerEnd, headerEnd + 4 * n * k));
  const cholesky = new Float64Array(copyOf(bytes, headerEnd + 4 * n * k, expected - CHECKSUM));
  return { ...header, features, cholesky };
}

/** Writes `dir/gradient-index.bin` atomically. */
export function saveGradientIndex(index: GradientIndex, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, GRADIENT_INDEX_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeGradientIndex(index));
  renameSync(tmp, path);
  return path;
}

/** Reads and verifies `dir/gradient-index.bin`. */
export function loadGradientIndex(dir: string): GradientIndex {
  const path = join(dir, GRADIENT_INDEX_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BaseError('INDEX_INVALID', `Gradient index file ${path} is missing`, {
      details: { file: path },
      cause: e,
    });
  }
  return decodeGradientIndex(bytes);
}
