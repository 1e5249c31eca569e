/** Two jax-js threads on Node 20 through the worker shim (its own test file: the backend is per process). */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type JaxBackend, startJaxBackend } from './jax-backend.js';
import { createLoraTrainer } from './lora-trainer.js';
import { defaultAdamW } from './optim.js';
import { randomBatch, tinyConfig } from './test-support/fixtures.js';
import { initLlamaWeights } from './weights.js';

// Must be set before jax-js is evaluated (see jax-preload.ts): vi.hoisted runs before the imports.
vi.hoisted(() => {
  process.env.TRIBUTARY_JAX_THREADS = '2';
});

let backend: JaxBackend | undefined;
afterAll(async () => {
  await backend?.stop();
});

describe('jax-js on two threads', () => {
  it('starts a worker pool and trains deterministically', async () => {
    backend = await startJaxBackend({ threads: 2 });
    expect(backend.threads).toBe(2);
    expect(typeof (globalThis as Record<string, unknown>).Worker).toBe('function');
    // Big enough that kernels are split across threads (jax-js needs ≥ 512 elements per thread).
    const cfg = tinyConfig({ dim: 64, ffnDim: 128 });
    const base = initLlamaWeights(cfg, 1);
    const run = async () => {
      const t = createLoraTrainer({
        base,
        lora: { rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v', 'up'] },
        seed: 2,
        optimizer: { ...defaultAdamW, lr: 1e-2 },
        schedule: { warmupSteps: 0, totalSteps: 4, minLrRatio: 1 },
      });
      const losses: number[] = [];
      for (let s = 0; s < 4; s++) losses.push((await t.step(randomBatch(cfg.vocabSize, 4, 16, s % 2))).loss);
      const a = await t.adapter();
      t.dispose();
      return { losses, a };
    };
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    expect(first.losses.at(-1)!).toBeLessThan(first.losses[0]!);
  });

  it('refuses thread counts other than 1 or 2, or other than the process was started with', () => {
    expect(() => startJaxBackend({ threads: 3 })).toThrow('threads must be 1 or 2');
    expect(() => startJaxBackend({ threads: 1 })).toThrow(
      'jax-js runs on 2 thread(s) in this process; set TRIBUTARY_JAX_THREADS=1 before it starts',
    );
  });
});
