/** GGUF v3 writer (see gguf.ts for the layout). Equal inputs give byte-identical files. */
import { BaseError } from '../core/index.js';
import { f16ToF32, f32ToF16 } from './f16.js';
import {
  type GgufRawTensor,
  type GgufScalar,
  type GgufTensorIn,
  type GgufValue,
  ggmlBlocks,
  ggmlType,
  ggufValueType,
  type ScalarType,
  scalarSizes,
} from './gguf.js';

const encoder = new TextEncoder();

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  scalar(type: ScalarType, v: GgufScalar): void {
    if (type === ggufValueType.STRING) {
      this.str(String(v));
      return;
    }
    const size = scalarSizes[type];
    this.ensure(size);
    const d = this.view;
    const p = this.pos;
    switch (type) {
      case 0:
        d.setUint8(p, Number(v));
        break;
      case 1:
        d.setInt8(p, Number(v));
        break;
      case 2:
        d.setUint16(p, Number(v), true);
        break;
      case 3:
        d.setInt16(p, Number(v), true);
        break;
      case 4:
        d.setUint32(p, Number(v), true);
        break;
      case 5:
        d.setInt32(p, Number(v), true);
        break;
      case 6:
        d.setFloat32(p, Number(v), true);
        break;
      case 7:
        d.setUint8(p, v ? 1 : 0);
        break;
      case 10:
        d.setBigUint64(p, BigInt(v), true);
        break;
      case 11:
        d.setBigInt64(p, BigInt(v), true);
        break;
      case 12:
        d.setFloat64(p, Number(v), true);
        break;
    }
    this.pos += size;
  }
  u32(v: number): void {
    this.scalar(ggufValueType.UINT32, v);
  }
  u64(v: number | bigint): void {
    this.scalar(ggufValueType.UINT64, BigInt(v));
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  str(s: string): void {
    const b = encoder.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const n = (alignment - (this.pos % alignment)) % alignment;
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

function tensorBytes(t: GgufTensorIn | GgufRawTensor): Uint8Array {
  if ('bytes' in t) return t.bytes;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new BaseError('INVALID_ARGUMENT', `Tensor ${t.name} has ${t.data.length} values but its shape needs ${n}`, {
      details: { tensor: t.name, shape: t.shape },
    });
  }
  if (t.type === ggmlType.F32) return new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + n * 4));
  if (t.type === ggmlType.Q8_0) return quantizeQ8_0(t);
  if (t.type === ggmlType.Q4_K) return quantizeQ4_K(t);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = f32ToF16(t.data[i]!);
  return new Uint8Array(out.buffer);
}

/** The output of a block-quantised tensor: rows must be whole blocks of the type (ggmlBlocks gives their sizes). */
function blockOutput(t: GgufTensorIn, type: 'Q8_0' | 'Q4_K') {
  const block = ggmlBlocks[ggmlType[type]]!;
  if ((t.shape.at(-1) ?? 0) % block.values !== 0) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${type} tensor ${t.name} needs rows that are a multiple of ${block.values}`,
      {
        details: { tensor: t.name, shape: t.shape },
      },
    );
  }
  const blocks = t.data.length / block.values;
  const out = new Uint8Array(blocks * block.bytes);
  return { blocks, out, view: new DataView(out.buffer) };
}

/** llama.cpp's reference Q8_0: blocks of 32 along a row, scale d = max|x| / 127 (f16), q = round(x / d). */
function quantizeQ8_0(t: GgufTensorIn): Uint8Array {
  const { blocks, out, view } = blockOutput(t, 'Q8_0');
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(t.data[b * 32 + j]!));
    const d = amax / 127;
    const id = d === 0 ? 0 : 1 / d;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let j = 0; j < 32; j++) {
      const x = t.data[b * 32 + j]! * id;
      view.setInt8(b * 34 + 2 + j, Math.sign(x) * Math.floor(Math.abs(x) + 0.5)); // C roundf: half away from 0
    }
  }
  return out;
}

/**
 * Q4_K, 256 values per block in eight sub-blocks of 32: each sub-block maps [min(0, lo), hi] onto 0..15 with its
 * own scale and min, stored as 6-bit multiples of the block's f16 `d` and `dmin` (the inverse of the reader's
 * layout). A plain min/max fit, not llama.cpp's search for the best scales: good enough for test models.
 */
function quantizeQ4_K(t: GgufTensorIn): Uint8Array {
  const { blocks, out, view } = blockOutput(t, 'Q4_K');
  const f16 = (x: number) => f16ToF32(f32ToF16(x));
  for (let b = 0; b < blocks; b++) {
    const x = t.data.subarray(b * 256, (b + 1) * 256);
    const scales: number[] = [];
    const mins: number[] = [];
    for (let j = 0; j < 8; j++) {
      let lo = 0;
      let hi = 0;
      for (let l = 0; l < 32; l++) {
        lo = Math.min(lo, x[32 * j + l]!);
        hi = Math.max(hi, x[32 * j + l]!);
      }
      scales.push((hi - lo) / 15);
      mins.push(-lo);
    }
    const d = f16(Math.max(...scales) / 63);
    const dmin = f16(Math.max(...mins) / 63);
    const o = b * 144;
    view.setUint16(o, f32ToF16(d), true);
    view.setUint16(o + 2, f32ToF16(dmin), true);
    const six = (v: number, unit: number) => (unit === 0 ? 0 : Math.min(63, Math.round(v / unit)));
    const sc = scales.map((s) => six(s, d));
    const m = mins.map((v) => six(v, dmin));
    // ggml's get_scale_min_k4, inverted: sub-blocks 0-3 in the low 6 bits of bytes 0-7, 4-7 split across the rest.
    const or = (i: number, bits: number) => view.setUint8(o + 4 + i, view.getUint8(o + 4 + i) | bits);
    for (let j = 0; j < 8; j++) {
      const sj = sc[j]!;
      const mj = m[j]!;
      if (j < 4) {
        or(j, sj);
        or(j + 4, mj);
      } else {
        or(j + 4, (sj & 0xf) | ((mj & 0xf) << 4));
        or(j - 4, (sj >> 4) << 6);
        or(j, (mj >> 4) << 6);
      }
    }
    const q = (i: number): number => {
      const j = i >> 5;
      const step = d * sc[j]!;
      return step === 0 ? 0 : Math.max(0, Math.min(15, Math.round((x[i]! + dmin * m[j]!) / step)));
    };
    for (let chunk = 0; chunk < 4; chunk++) {
      for (let l = 0; l < 32; l++) out[o + 16 + 32 * chunk + l] = q(64 * chunk + l) | (q(64 * chunk + 32 + l) << 4);
    }
  }
  return out;
}

/** Serialises metadata (in the order given) and tensors to a GGUF v3 file. */
export function writeGguf(metadata: [string, GgufValue][], tensors: (GgufTensorIn | GgufRawTensor)[]): Uint8Array {
  const alignEntry = metadata.find(([k]) => k === 'general.alignment');
  const alignment = alignEntry ? Number(alignEntry[1].value) : 32;
  const w = new ByteWriter();
  w.bytes(encoder.encode('GGUF'));
  w.u32(3);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, val] of metadata) {
    w.str(key);
    w.u32(val.type);
    if (val.type === ggufValueType.ARRAY) {
      w.u32(val.itemType);
      w.u64(val.value.length);
      for (const item of val.value) w.scalar(val.itemType, item);
    } else {
      w.scalar(val.type, val.value);
    }
  }
  const blobs = tensors.map(tensorBytes);
  let offset = 0;
  const offsets: number[] = [];
  for (const b of blobs) {
    offsets.push(offset);
    offset += b.length;
    offset += (alignment - (offset % alignment)) % alignment;
  }
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) w.u64(d);
    w.u32(t.type);
    w.u64(offsets[i]!);
  });
  w.padTo(alignment);
  for (const b of blobs) {
    w.bytes(b);
    w.padTo(alignment);
  }
  return w.result();
}
