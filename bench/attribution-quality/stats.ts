/** The bench's statistics: Spearman's ρ, percentile bootstrap intervals of a mean, seeded so reruns agree. */
import { Rng } from '../../src/engine/index.js';

function ranks(xs: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: xs.length }, (_, i) => i).sort((a, b) => (xs[a] ?? 0) - (xs[b] ?? 0));
  const r = new Float64Array(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1] ?? 0] === xs[idx[i] ?? 0]) j++;
    for (let t = i; t <= j; t++) r[idx[t] ?? 0] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

/** Spearman's ρ (Pearson on average ranks); 0 when either side is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const [da, db] = [(ra[i] ?? 0) - ma, (rb[i] ?? 0) - mb];
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

export const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** The p-quantile of sorted values (linear interpolation). */
export function quantile(sorted: readonly number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
}

/** 95% percentile-bootstrap interval of the mean of `xs` (resampling its items), 2,000 resamples. */
export function bootstrapCi(xs: readonly number[], seed: number, resamples = 2000): [number, number] {
  const rng = new Rng(seed);
  const means: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[rng.int(xs.length)] ?? 0;
    means.push(s / xs.length);
  }
  means.sort((a, b) => a - b);
  return [quantile(means, 0.025), quantile(means, 0.975)];
}

export const round = (x: number) => Math.round(x * 10000) / 10000;
