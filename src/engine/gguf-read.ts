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
  const decoder = new TextDecoder('utf-8', { fatal: true });
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

/** A tensor's values as float32 (F32 as is, F16 and Q8_0 dequantised); other types are refused by name. */
export function ggufTensor(f: GgufFile, name: string): { shape: number[]; data: Float32Array } {
  const t = f.tensors.find((x) => x.name === name);
  if (!t) throw invalid(`GGUF file has no tensor ${name}`, { tensor: name });
  const n = elementCount(t.shape);
  const start = f.bytes.byteOffset + f.dataOffset + t.offset;
  const view = new DataView(f.bytes.buffer);
  const out = new Float32Array(n);
  if (t.type === ggmlType.F32) {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(start + 4 * i, true);
  } else if (t.type === ggmlType.F16) {
    for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(start + 2 * i, true));
  } else if (t.type === ggmlType.Q8_0) {
    if ((t.shape.at(-1) ?? 0) % 32 !== 0)
      throw invalid(`Q8_0 tensor ${name} rows are not a multiple of 32`, { tensor: name });
    // Blocks of 32 values: an f16 scale then 32 int8s.
    for (let b = 0; b < n / 32; b++) {
      const o = start + b * 34;
      const d = f16ToF32(view.getUint16(o, true));
      for (let j = 0; j < 32; j++) out[b * 32 + j] = d * view.getInt8(o + 2 + j);
    }
  } else {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Tensor ${name} has type ${ggmlTypeName(t.type)}; supported tensor types: F32, F16, Q8_0`,
      { details: { tensor: name, type: ggmlTypeName(t.type), supported: ['F32', 'F16', 'Q8_0'] } },
    );
  }
  return { shape: t.shape, data: out };
}

/** A metadata value, or undefined. */
export function ggufMeta(f: GgufFile, key: string): GgufScalar | GgufScalar[] | undefined {
  return f.metadata.get(key)?.value;
}
