/**
 * The small dense linear algebra of influence: the damped curvature C = GᵀG/n + λI of projected gradient features
 * G `[n, k]`, its Cholesky factor, and the two triangular solves of a query. Float64, loops in a fixed order (JS
 * numbers have no fused multiply-add), so results are bit-identical on every machine.
 */
import { BaseError } from '../../core/index.js';

/** GᵀG/n `[k, k]` (row-major, symmetric) of n row-major feature rows. */
export function secondMoment(features: Float32Array, n: number, k: number): Float64Array {
  const c = new Float64Array(k * k);
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) row[a] = features[i * k + a]!;
    for (let a = 0; a < k; a++) {
      const x = row[a]!;
      if (x === 0) continue;
      const o = a * k;
      for (let b = 0; b <= a; b++) c[o + b]! += x * row[b]!;
    }
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b <= a; b++) {
      const v = c[a * k + b]! / Math.max(n, 1);
      c[a * k + b] = v;
      c[b * k + a] = v;
    }
  }
  return c;
}

/** The lower-triangular L with L·Lᵀ = m (row-major `[k, k]`, upper part zero); refuses a matrix that is not SPD. */
export function cholesky(m: Float64Array, k: number): Float64Array {
  const l = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[i * k + j]!;
      for (let p = 0; p < j; p++) s -= l[i * k + p]! * l[j * k + p]!;
      if (i === j) {
        if (!(s > 0)) {
          throw new BaseError('INVALID_ARGUMENT', 'The curvature matrix is not positive definite (increase damping)', {
            details: { pivot: i, value: s },
          });
        }
        l[i * k + i] = Math.sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j]!;
      }
    }
  }
  return l;
}

/** x with L·Lᵀ·x = b: forward then back substitution. */
export function choleskySolve(l: Float64Array, k: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * k + p]! * y[p]!;
    y[i] = s / l[i * k + i]!;
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < k; p++) s -= l[p * k + i]! * x[p]!;
    x[i] = s / l[i * k + i]!;
  }
  return x;
}

/** G·x: one dot product per feature row, in float64. */
export function rowDots(features: Float32Array, n: number, k: number, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * k;
    for (let a = 0; a < k; a++) s += features[o + a]! * x[a]!;
    out[i] = s;
  }
  return out;
}
