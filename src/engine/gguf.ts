/**
 * GGUF v3 (little-endian), the llama.cpp model format:
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv | key/values | tensor infos | pad | tensor data.
 * Each tensor's offset is relative to the data start and aligned to `general.alignment` (default 32).
 * Dimensions are ggml `ne` order — ne[0] is the contiguous axis, the reverse of a row-major shape — so a
 * PyTorch `[out, in]` weight is stored with ne = [in, out]. Here shapes are always row-major; the reversal
 * happens only at the byte level.
 */

/** Metadata value types. */
export const ggufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type ScalarType = Exclude<(typeof ggufValueType)[keyof typeof ggufValueType], 9>;

const scalarTypes: ReadonlySet<number> = new Set<ScalarType>([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]);

/** Bytes of each fixed-size metadata value type. */
export const scalarSizes: Record<Exclude<ScalarType, 8>, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** A metadata value type other than ARRAY. */
export function isScalarType(t: number): t is ScalarType {
  return scalarTypes.has(t);
}

/** The ggml tensor types the engine reads and writes. */
export const ggmlType = { F32: 0, F16: 1, Q8_0: 8, Q4_K: 12 } as const;
export type GgmlTypeId = (typeof ggmlType)[keyof typeof ggmlType];

const ggmlTypeNames: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  6: 'Q5_0',
  7: 'Q5_1',
  8: 'Q8_0',
  9: 'Q8_1',
  10: 'Q2_K',
  11: 'Q3_K',
  12: 'Q4_K',
  13: 'Q5_K',
  14: 'Q6_K',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  30: 'BF16',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
};

/**
 * Bytes per block and values per block of the types a llama-family GGUF commonly holds, so a header can be checked
 * against the file's length (and a model's size stated) even for types the engine does not dequantise.
 */
export const ggmlBlocks: Readonly<Record<number, { values: number; bytes: number }>> = {
  0: { values: 1, bytes: 4 },
  1: { values: 1, bytes: 2 },
  2: { values: 32, bytes: 18 },
  3: { values: 32, bytes: 20 },
  6: { values: 32, bytes: 22 },
  7: { values: 32, bytes: 24 },
  8: { values: 32, bytes: 34 },
  10: { values: 256, bytes: 84 },
  11: { values: 256, bytes: 110 },
  12: { values: 256, bytes: 144 },
  13: { values: 256, bytes: 176 },
  14: { values: 256, bytes: 210 },
  30: { values: 1, bytes: 2 },
};

export function ggmlTypeName(type: number): string {
  return ggmlTypeNames[type] ?? `type ${type}`;
}

export type GgufScalar = number | bigint | boolean | string;
export type GgufValue =
  | { type: ScalarType; value: GgufScalar }
  | { type: 9; itemType: ScalarType; value: GgufScalar[] };

/** Typed metadata constructors (the type matters: llama.cpp reads e.g. adapter.lora.alpha as FLOAT32 only). */
export const kv = {
  u32: (value: number): GgufValue => ({ type: ggufValueType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: ggufValueType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: ggufValueType.FLOAT32, value }),
  u64: (value: bigint): GgufValue => ({ type: ggufValueType.UINT64, value }),
  bool: (value: boolean): GgufValue => ({ type: ggufValueType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: ggufValueType.STRING, value }),
  arr: (itemType: ScalarType, value: GgufScalar[]): GgufValue => ({ type: ggufValueType.ARRAY, itemType, value }),
};

export interface GgufTensorIn {
  name: string;
  /** Row-major shape. */
  shape: number[];
  type: GgmlTypeId;
  data: Float32Array;
}

/** A tensor already encoded in its ggml type (any type: blocks written as given). */
export interface GgufRawTensor {
  name: string;
  /** Row-major shape. */
  shape: number[];
  type: number;
  bytes: Uint8Array;
}
