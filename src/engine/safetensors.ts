/**
 * safetensors: u64 header length | JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__}
 * | raw little-endian tensor bytes. Read for PEFT imports (F32, F16, BF16) and used (F32) for training
 * checkpoints, whose exact float bits must survive a round trip.
 */
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import { bf16ToF32, f16ToF32 } from './f16.js';
import type { Tensor } from './weights.js';

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, Tensor>;
}

const bytesPerElement: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

/** The JSON header, and each tensor entry's dtype and layout {shape, data_offsets: [begin, end]}. */
const headerSchema = z.record(z.string(), z.unknown());
const dtypeSchema = z.object({ dtype: z.unknown() });
const layoutSchema = z.object({
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

function invalid(message: string, details: Record<string, unknown> = {}): BaseError {
  return new BaseError('MODEL_INVALID', message, { details });
}

export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw invalid('safetensors file is truncated (no header)', { size: bytes.length });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    throw invalid('safetensors file is truncated (header runs past the end)', { headerLength, size: bytes.length });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new BaseError('MODEL_INVALID', 'safetensors header is not valid JSON', {
      cause: e,
      details: { headerLength },
    });
  }
  const header = headerSchema.safeParse(json);
  if (!header.success) throw invalid('safetensors header is not a JSON object');
  const dataStart = 8 + headerLength;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of Object.entries(header.data)) {
    if (name === '__metadata__') {
      const m = headerSchema.safeParse(entry);
      if (!m.success) throw invalid('safetensors __metadata__ is not a JSON object');
      for (const [k, v] of Object.entries(m.data)) metadata[k] = String(v);
      continue;
    }
    // The dtype is checked first, so an unsupported tensor is named as such even if the rest is odd.
    const dtype = String(dtypeSchema.safeParse(entry).data?.dtype);
    const size = bytesPerElement[dtype];
    if (size === undefined) {
      throw new BaseError('MODEL_UNSUPPORTED', `Tensor ${name} has dtype ${dtype}; supported: F32, F16, BF16`, {
        details: { tensor: name, dtype, supported: Object.keys(bytesPerElement) },
      });
    }
    const layout = layoutSchema.safeParse(entry);
    if (!layout.success) throw invalid(`safetensors entry ${name} is malformed`, { tensor: name });
    const { shape } = layout.data;
    const n = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = layout.data.data_offsets;
    if (end - begin !== n * size) {
      throw invalid(`safetensors tensor ${name} has ${end - begin} bytes, its shape needs ${n * size}`, {
        tensor: name,
      });
    }
    if (dataStart + end > bytes.length) {
      throw invalid(`safetensors file is truncated: tensor ${name} ends past the end of the file`, {
        tensor: name,
        end: dataStart + end,
        size: bytes.length,
      });
    }
    const start = bytes.byteOffset + dataStart + begin;
    const data = new Float32Array(n);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < n; i++) {
      data[i] =
        dtype === 'F32'
          ? dv.getFloat32(start + 4 * i, true)
          : dtype === 'F16'
            ? f16ToF32(dv.getUint16(start + 2 * i, true))
            : bf16ToF32(dv.getUint16(start + 2 * i, true));
    }
    tensors.set(name, { shape, data });
  }
  return { metadata, tensors };
}

/** Writes F32 tensors in the order given (so equal inputs give byte-identical files). */
export function writeSafetensors(tensors: [string, Tensor][], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (the format recommends it).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length * 4), pos);
    pos += t.data.length * 4;
  }
  return out;
}
