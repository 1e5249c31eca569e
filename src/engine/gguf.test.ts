import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { f16ToF32, f32ToF16 } from './f16.js';
import { type GgufValue, ggmlType, ggufValueType, kv } from './gguf.js';
import { ggufTensor, readGguf } from './gguf-read.js';
import { writeGguf } from './gguf-write.js';
import { patchTensorType } from './test-support/fixtures.js';

const meta: [string, GgufValue][] = [
  ['u8', { type: ggufValueType.UINT8, value: 250 }],
  ['i8', { type: ggufValueType.INT8, value: -5 }],
  ['u16', { type: ggufValueType.UINT16, value: 65000 }],
  ['i16', { type: ggufValueType.INT16, value: -30000 }],
  ['u32', kv.u32(4000000000)],
  ['i32', kv.i32(-2000000000)],
  ['f32', kv.f32(1.5)],
  ['f64', { type: ggufValueType.FLOAT64, value: Math.PI }],
  ['u64', kv.u64(2n ** 63n + 5n)],
  ['i64', { type: ggufValueType.INT64, value: -(2n ** 62n) }],
  ['bool', kv.bool(true)],
  ['str', kv.str('héllo 😀')],
  ['arr.str', kv.arr(ggufValueType.STRING, ['a', 'b c', ''])],
  ['arr.i32', kv.arr(ggufValueType.INT32, [1, -2, 3])],
  ['arr.f32', kv.arr(ggufValueType.FLOAT32, [0.5, -0.25])],
  ['arr.bool', kv.arr(ggufValueType.BOOL, [true, false])],
];
const a = Float32Array.from({ length: 6 * 7 }, (_, i) => i / 7 - 2);
const file = writeGguf(meta, [
  { name: 'a', shape: [6, 7], type: ggmlType.F32, data: a },
  { name: 'h', shape: [7, 6], type: ggmlType.F16, data: a },
]);

/** A GGUF with one 1-D tensor "t" of any ggml type and raw bytes (types the writer does not produce). */
function rawTensorFile(type: number, elements: number, data: Uint8Array): Uint8Array {
  const f32 = writeGguf(
    [],
    [{ name: 't', shape: [data.length / 4], type: ggmlType.F32, data: new Float32Array(data.length / 4) }],
  );
  const out = patchTensorType(f32, 't', type, 1);
  // ne[0] sits just before the type field.
  new DataView(out.buffer).setBigUint64(24 + 9 + 4, BigInt(elements), true);
  out.set(data, readGguf(out).dataOffset);
  return out;
}

describe('GGUF', () => {
  it('round-trips every metadata type and F32/F16 tensors', () => {
    const g = readGguf(file);
    expect(g.version).toBe(3);
    for (const [k, v] of meta) expect(g.metadata.get(k)).toEqual(v.type === ggufValueType.FLOAT32 ? v : v);
    expect(g.dataOffset % 32).toBe(0);
    const ta = ggufTensor(g, 'a');
    expect(ta.shape).toEqual([6, 7]);
    expect(Array.from(ta.data)).toEqual(Array.from(a));
    const th = ggufTensor(g, 'h');
    expect(th.shape).toEqual([7, 6]);
    for (let i = 0; i < a.length; i++) expect(Math.abs(th.data[i]! - a[i]!)).toBeLessThan(2e-3);
  });

  it('is byte-identical for identical inputs', () => {
    expect(Buffer.from(writeGguf(meta, [{ name: 'a', shape: [6, 7], type: ggmlType.F32, data: a }]))).toEqual(
      Buffer.from(writeGguf(meta, [{ name: 'a', shape: [6, 7], type: ggmlType.F32, data: a }])),
    );
  });

  it('dequantises Q8_0 blocks (f16 scale + 32 int8)', () => {
    const block = new Uint8Array(34);
    new DataView(block.buffer).setUint16(0, f32ToF16(0.5), true);
    for (let j = 0; j < 32; j++) new DataView(block.buffer).setInt8(2 + j, j - 16);
    const f = rawTensorFile(ggmlType.Q8_0, 32, new Uint8Array([...block, 0, 0]));
    const t = ggufTensor(readGguf(f), 't');
    expect(Array.from(t.data)).toEqual(Array.from({ length: 32 }, (_, j) => 0.5 * (j - 16)));
  });

  it('refuses unsupported tensor types, naming the tensor and the type', () => {
    const f = rawTensorFile(13, 256, new Uint8Array(1024));
    const e = errorOf(() => ggufTensor(readGguf(f), 't'));
    expect(e.code).toBe('MODEL_UNSUPPORTED');
    expect(e.message).toBe('Tensor t has type Q5_K; supported tensor types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K');
  });

  it('detects truncation at any point with MODEL_INVALID', () => {
    // The file ends with 12 bytes of alignment padding after the last tensor, so cut at least 13.
    for (const cut of [0, 3, 7, 20, 60, 200, file.length - 200, file.length - 13]) {
      const e = errorOf(() => readGguf(file.slice(0, cut)));
      expect(e.code).toBe('MODEL_INVALID');
      expect(e.message).toMatch(/^GGUF file is truncated|^Not a GGUF file/);
    }
    expect(errorOf(() => readGguf(file.slice(0, file.length - 13))).message).toBe(
      `GGUF file is truncated: tensor h ends at byte ${readGguf(file).dataOffset + 192 + 84}, file has ${file.length - 13}`,
    );
  });

  it('rejects bad magic, unknown versions and corrupt counts', () => {
    const bad = file.slice();
    bad[0] = 0x58;
    expect(errorOf(() => readGguf(bad)).message).toBe('Not a GGUF file (bad magic)');
    const v9 = file.slice();
    new DataView(v9.buffer).setUint32(4, 9, true);
    const e = errorOf(() => readGguf(v9));
    expect([e.code, e.message]).toEqual(['MODEL_UNSUPPORTED', 'Unsupported GGUF version 9 (supported: 2, 3)']);
    const huge = file.slice();
    new DataView(huge.buffer).setBigUint64(16, 1n << 40n, true);
    expect(errorOf(() => readGguf(huge)).message).toBe(
      'GGUF file is truncated or corrupt: its header counts exceed the file size',
    );
  });
});

describe('f16', () => {
  it('converts exactly representable values and rounds to nearest even', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 2 ** -24, -(2 ** -14)]) expect(f16ToF32(f32ToF16(v))).toBe(v);
    expect(f16ToF32(f32ToF16(1 + 2 ** -11))).toBe(1);
    expect(f16ToF32(f32ToF16(1e6))).toBe(Number.POSITIVE_INFINITY);
  });
});
