import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/index.js';
import { gradientIndexFromFeatures, gradientInfluence, tracinInfluence } from './gradient-index.js';
import { cholesky, choleskySolve } from './linalg.js';
import { createProjection, project } from './projection.js';

/** Gaussian elimination with partial pivoting on a dense copy: the reference solve. */
function denseSolve(m: number[][], b: number[]): number[] {
  const n = b.length;
  const a = m.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

function randomFeatures(n: number, k: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * k }, () => rng.normal());
}

describe('projection', () => {
  it('is a pure function of (seed, coordinate): same bytes on every build', () => {
    const v = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * (i % 7));
    const a = project(createProjection({ inputDim: 1000, outputDim: 64, seed: 9 }), v);
    const b = project(createProjection({ inputDim: 1000, outputDim: 64, seed: 9 }), v);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const c = project(createProjection({ inputDim: 1000, outputDim: 64, seed: 10 }), v);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    // A pinned value guards against silent changes to the map (which would invalidate stored indexes).
    expect(Array.from(a.slice(0, 3), (x) => x.toFixed(4))).toEqual(['-5.0191', '1.0895', '-16.3687']);
  });

  it('preserves inner products approximately', () => {
    const rng = new Rng(1);
    const d = 5000;
    const a = Float32Array.from({ length: d }, () => rng.normal());
    const b = Float32Array.from({ length: d }, (_, i) => 0.6 * a[i]! + 0.8 * rng.normal());
    const p = createProjection({ inputDim: d, outputDim: 1024, seed: 3 });
    const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, xi, i) => s + xi * y[i]!, 0);
    const exact = dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    const pa = project(p, a);
    const pb = project(p, b);
    const approx = dot(pa, pb) / Math.sqrt(dot(pa, pa) * dot(pb, pb));
    expect(Math.abs(approx - exact)).toBeLessThan(0.05);
  });

  it('refuses a map whose blocks do not divide the output', () => {
    expect(() => createProjection({ inputDim: 10, outputDim: 10, seed: 1, nonzeros: 4 })).toThrow(
      'Projection outputDim must be a multiple of nonzeros',
    );
  });
});

describe('damped curvature solve', () => {
  it('matches a direct dense solve of (GᵀG/n + λI) x = g', () => {
    const n = 12;
    const k = 8;
    const features = randomFeatures(n, k, 5);
    const index = gradientIndexFromFeatures({
      model: { base: 'b', adapter: 'a', tokenizer: 't' },
      gradientDim: 100,
      projection: { dim: k, seed: 1, nonzeros: 4 },
      damping: 0.05,
      examples: Array.from({ length: n }, (_, i) => ({ id: `e${i}`, contributor: `c${i % 3}` })),
      features,
    });
    const m: number[][] = Array.from({ length: k }, (_, a) =>
      Array.from({ length: k }, (_, b) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += features[i * k + a]! * features[i * k + b]!;
        return s / n + (a === b ? index.lambda : 0);
      }),
    );
    let trace = 0;
    for (let a = 0; a < k; a++) trace += m[a]![a]! - index.lambda;
    expect(index.lambda).toBeCloseTo((0.05 * trace) / k, 12);
    const q = Array.from(randomFeatures(1, k, 6));
    const x = denseSolve(m, q);
    const scores = gradientInfluence(index, q);
    for (let i = 0; i < n; i++) {
      let expected = 0;
      for (let a = 0; a < k; a++) expected += features[i * k + a]! * x[a]!;
      expect(scores[i]).toBeCloseTo(expected, 9);
    }
    const tracin = tracinInfluence(index, q);
    expect(tracin[0]).toBeCloseTo(
      q.reduce((s, v, a) => s + v * features[a]!, 0),
      9,
    );
  });

  it('factors and solves a known system exactly', () => {
    const m = Float64Array.from([4, 2, 2, 3]);
    const l = cholesky(m, 2);
    expect(Array.from(l)).toEqual([2, 0, 1, Math.sqrt(2)]);
    const x = choleskySolve(l, 2, [6, 5]);
    expect(x[0]).toBeCloseTo(1, 12);
    expect(x[1]).toBeCloseTo(1, 12);
  });
});
