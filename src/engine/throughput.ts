/**
 * The backend's own matmul throughput, the denominator of model FLOP utilisation: the best GFLOP/s of jitted
 * f32 matmuls over shapes like the model's (activations × weights) and one large square.
 */
import './jax-preload.js';
import { jit, numpy as np } from '@jax-js/jax';

export interface MatmulMeasurement {
  m: number;
  k: number;
  n: number;
  ms: number;
  gflops: number;
}

export async function measureMatmulGflops(
  shapes: readonly [number, number, number][] = [
    [512, 256, 256],
    [512, 256, 640],
    [512, 256, 4096],
    [1024, 1024, 1024],
  ],
  minMs = 400,
): Promise<{ best: number; measurements: MatmulMeasurement[] }> {
  const f = jit((x: np.Array, y: np.Array) => np.matmul(x, y));
  const measurements: MatmulMeasurement[] = [];
  for (const [m, k, n] of shapes) {
    const a = np.array(new Float32Array(m * k).map((_, i) => ((i * 7919) % 17) / 17 - 0.5)).reshape([m, k]);
    const b = np.array(new Float32Array(k * n).map((_, i) => ((i * 104729) % 13) / 13 - 0.5)).reshape([k, n]);
    const once = async () => {
      // Wait for the result without reading it back: the copy to JS would be timed too.
      const out = await f(a.ref, b.ref).blockUntilReady();
      out.dispose();
    };
    await once(); // compile and warm up
    let iterations = 0;
    const t0 = performance.now();
    while (iterations < 3 || performance.now() - t0 < minMs) {
      await once();
      iterations++;
    }
    const ms = (performance.now() - t0) / iterations;
    measurements.push({ m, k, n, ms, gflops: (2 * m * k * n) / ms / 1e6 });
    a.dispose();
    b.dispose();
  }
  f.dispose();
  return { best: Math.max(...measurements.map((x) => x.gflops)), measurements };
}
