/** GGUF reader (v2 and v3): header parsing with truncation/corruption checks, tensors dequantised to F32. */
import { BaseError } from '../core/index.js';
import { f16ToF32 } from './f16.js';
import {
  type GgufScalar,
  type GgufValue,
  ggmlBlocks,
  ggmlType,
  ggmlTypeName,
  ggufValueType,
  isScalarType,
  type ScalarType,
  scalarSizes,
} from './gguf.js';

export interface GgufTensorInfo {
  name: string;
  /** Row-major shape. */
  shape: number[];
  type: number;
  /** Byte offset from the start of the data section. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  dataOffset: number;
  bytes: Uint8Array;
}

function invalid(message: string, details: Record<string, unknown> = {}): BaseError {
  return new BaseError('MODEL_INVALID', message, { details });
}

const MAX_DIMS = 4;

/** Parses the header; tensor data is read lazily by `ggufTensor`. Truncated or corrupt headers are reported. */
export function readGguf(bytes: Uint8Array): GgufFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pos = 0;
  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) {
      throw invalid(`GGUF file is truncated (${what} at byte ${pos} needs ${n} bytes, file has ${bytes.length})`, {
        offset: pos,
        size: bytes.length,
      });
    }
  };
  const u32 = (what: string) => {
    need(4, what);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (what: string) => {
    need(8, what);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`GGUF ${what} is implausibly large`, { offset: pos - 8 });
    return Number(v);
  };
  const str = (what: string) => {
    const n = u64(`${what} length`);
    need(n, what);
    let s: string;
    try {
      s = decoder.decode(bytes.subarray(pos, pos + n));
    } catch {
      throw invalid(`GGUF ${what} is not valid UTF-8`, { offset: pos });
    }
    pos += n;
    return s;
  };
  const scalarType = (t: number, what: string): ScalarType => {
    if (!isScalarType(t)) throw invalid(`GGUF ${what} has unknown value type ${t}`, { offset: pos, type: t });
    return t;
  };
  const scalar = (t: ScalarType, what: string): GgufScalar => {
    if (t === ggufValueType.STRING) return str(what);
    const size = scalarSizes[t];
    need(size, what);
    const p = pos;
    pos += size;
    switch (t) {
      case 0:
        return view.getUint8(p);
      case 1:
        return view.getInt8(p);
      case 2:
        return view.getUint16(p, true);
      case 3:
        return view.getInt16(p, true);
      case 4:
        return view.getUint32(p, true);
      case 5:
        return view.getInt32(p, true);
      case 6:
        return view.getFloat32(p, true);
      case 7:
        return view.getUint8(p) !== 0;
      case 10:
        return view.getBigUint64(p, true);
      case 11:
        return view.getBigInt64(p, true);
      default:
        return view.getFloat64(p, true);
    }
  };
  need(8, 'header');
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== 'GGUF') {
    throw invalid('Not a GGUF file (bad magic)', { magic: Array.from(bytes.subarray(0, 4)) });
  }
  pos = 4;
  const version = u32('version');
  if (version !== 2 && version !== 3) {
    throw new BaseError('MODEL_UNSUPPORTED', `Unsupported GGUF version ${version} (supported: 2, 3)`, {
      details: { version },
    });
  }
  const nTensors = u64('tensor count');
  const nKv = u64('metadata count');
  // Each entry takes at least 8 bytes: counts beyond the file size mean corruption, not a huge model.
  if (nTensors > bytes.length / 8 || nKv > bytes.length / 8) {
    throw invalid('GGUF file is truncated or corrupt: its header counts exceed the file size', {
      nTensors,
      nKv,
      size: bytes.length,
    });
  }
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str('metadata key');
    const type = u32(`type of ${key}`);
    if (type === ggufValueType.ARRAY) {
      const rawItemType = u32(`item type of ${key}`);
      if (rawItemType === ggufValueType.ARRAY) throw invalid(`GGUF metadata ${key} nests arrays`, { key });
      const itemType = scalarType(rawItemType, key);
      const n = u64(`length of ${key}`);
      if (n > bytes.length - pos) throw invalid(`GGUF metadata ${key} is longer than the file`, { key, n });
      const value: GgufScalar[] = new Array(n);
      for (let j = 0; j < n; j++) value[j] = scalar(itemType, key);
      metadata.set(key, { type, itemType, value });
    } else {
      const t = scalarType(type, key);
      metadata.set(key, { type: t, value: scalar(t, key) });
    }
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str('tensor name');
    const nd = u32(`dimensions of ${name}`);
    if (nd < 1 || nd > MAX_DIMS) throw invalid(`GGUF tensor ${name} has ${nd} dimensions`, { tensor: name });
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(u64(`shape of ${name}`));
    const type = u32(`type of ${name}`);
    const offset = u64(`offset of ${name}`);
    tensors.push({ name, shape: ne.reverse(), type, offset });
  }
  const a = metadata.get('general.alignment');
  const alignment = a ? Number(a.value) : 32;
  if (!(alignment > 0) || alignment % 8 !== 0) throw invalid(`GGUF alignment ${alignment} is invalid`, { alignment });
  const dataOffset = Math.ceil(pos / alignment) * alignment;
  const file: GgufFile = { version, metadata, tensors, dataOffset, bytes };
  // Every tensor must lie inside the file: catches truncation before any weight is read.
  for (const t of tensors) {
    const end = dataOffset + t.offset + tensorByteSize(t);
    if (end > bytes.length) {
      throw invalid(`GGUF file is truncated: tensor ${t.name} ends at byte ${end}, file has ${bytes.length}`, {
        tensor: t.name,
        end,
        size: bytes.length,
      });
    }
  }
  return file;
}

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function tensorByteSize(t: GgufTensorInfo): number {
  const block = ggmlBlocks[t.type];
  if (!block) return 0; // unknown types are refused when read
  return Math.ceil(elementCount(t.shape) / block.values) * block.bytes;
}

/** The tensor types the engine dequantises (to train on any of them; llama.cpp serves them as they are). */
export const readableTensorTypes = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'] as const;

/** Q4_K's 6-bit scale and min of sub-block `j` (of 8), packed in 12 bytes at `q` (ggml's get_scale_min_k4). */
function scaleMinK4(view: DataView, q: number, j: number): [number, number] {
  const b = (i: number) => view.getUint8(q + i);
  if (j < 4) return [b(j) & 63, b(j + 4) & 63];
  return [(b(j + 4) & 0xf) | ((b(j - 4) >> 6) << 4), (b(j + 4) >> 4) | ((b(j) >> 6) << 4)];
}

/** Dequantises `blocks` blocks of a quantised type at `start` into `out` (layouts as ggml defines them). */
function dequantise(type: number, view: DataView, start: number, blocks: number, out: Float32Array): void {
  const f16 = (o: number) => f16ToF32(view.getUint16(o, true));
  for (let b = 0; b < blocks; b++) {
    if (type === ggmlType.Q8_0) {
      // 32 values: an f16 scale, then 32 int8s.
      const o = start + b * 34;
      const d = f16(o);
      for (let j = 0; j < 32; j++) out[b * 32 + j] = d * view.getInt8(o + 2 + j);
    } else if (type === 2) {
      // Q4_0, 32 values: an f16 scale, then 16 bytes of 4-bit values offset by 8 (low nibbles first).
      const o = start + b * 18;
      const d = f16(o);
      for (let j = 0; j < 16; j++) {
        const q = view.getUint8(o + 2 + j);
        out[b * 32 + j] = d * ((q & 0xf) - 8);
        out[b * 32 + j + 16] = d * ((q >> 4) - 8);
      }
    } else if (type === ggmlType.Q4_K) {
      // Q4_K, 256 values: f16 scale and min, 12 bytes of eight 6-bit sub-block scales and mins, 128 bytes of nibbles.
      const o = start + b * 144;
      const d = f16(o);
      const dmin = f16(o + 2);
      for (let chunk = 0; chunk < 4; chunk++) {
        const [sc1, m1] = scaleMinK4(view, o + 4, 2 * chunk);
        const [sc2, m2] = scaleMinK4(view, o + 4, 2 * chunk + 1);
        for (let l = 0; l < 32; l++) {
          const q = view.getUint8(o + 16 + 32 * chunk + l);
          out[b * 256 + 64 * chunk + l] = d * sc1 * (q & 0xf) - dmin * m1;
          out[b * 256 + 64 * chunk + 32 + l] = d * sc2 * (q >> 4) - dmin * m2;
        }
      }
    } else if (type === 14) {
      // Q6_K, 256 values: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales, an f16 scale.
      const o = start + b * 210;
      const d = f16(o + 208);
      for (let half = 0; half < 2; half++) {
        const ql = o + 64 * half;
        const qh = o + 128 + 32 * half;
        const sc = o + 192 + 8 * half;
        const y = b * 256 + 128 * half;
        for (let l = 0; l < 32; l++) {
          const is = Math.floor(l / 16);
          const lo = view.getUint8(ql + l);
          const lo32 = view.getUint8(ql + l + 32);
          const hi = view.getUint8(qh + l);
          const s = (k: number) => d * view.getInt8(sc + is + k);
          out[y + l] = s(0) * (((lo & 0xf) | ((hi & 3) << 4)) - 32);
          out[y + l + 32] = s(2) * (((lo32 & 0xf) | (((hi >> 2) & 3) << 4)) - 32);
          out[y + l + 64] = s(4) * (((lo >> 4) | (((hi >> 4) & 3) << 4)) - 32);
          out[y + l + 96] = s(6) * (((lo32 >> 4) | (((hi >> 6) & 3) << 4)) - 32);
        }
      }
    }
  }
}

/** A tensor's values as float32 (F32 as is, the other `readableTensorTypes` dequantised); others are refused by name. */
export function ggufTensor(f: GgufFile, name: string): { shape: number[]; data: Float32Array } {
  const t = f.tensors.find((x) => x.name === name);
  if (!t) throw invalid(`GGUF file has no tensor ${name}`, { tensor: name });
  const n = elementCount(t.shape);
  const start = f.bytes.byteOffset + f.dataOffset + t.offset;
  const view = new DataView(f.bytes.buffer);
  const out = new Float32Array(n);
  const typeName = ggmlTypeName(t.type);
  const block = ggmlBlocks[t.type];
  if (!readableTensorTypes.some((r) => r === typeName) || !block) {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Tensor ${name} has type ${typeName}; supported tensor types: ${readableTensorTypes.join(', ')}`,
      { details: { tensor: name, type: typeName, supported: [...readableTensorTypes] } },
    );
  }
  if (t.type === ggmlType.F32) {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(start + 4 * i, true);
  } else if (t.type === ggmlType.F16) {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(start + 2 * i, true));
  } else if (typeName === 'BF16') {
    // bfloat16 is the top half of a float32.
    const word = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      word.setUint32(0, view.getUint16(start + 2 * i, true) << 16);
      out[i] = word.getFloat32(0);
    }
  } else {
    if ((t.shape.at(-1) ?? 0) % block.values !== 0)
      throw invalid(`${typeName} tensor ${name} rows are not a multiple of ${block.values}`, { tensor: name });
    dequantise(t.type, view, start, n / block.values, out);
  }
  return { shape: t.shape, data: out };
}

/** A metadata value, or undefined. */
export function ggufMeta(f: GgufFile, key: string): GgufScalar | GgufScalar[] | undefined {
  return f.metadata.get(key)?.value;
}
