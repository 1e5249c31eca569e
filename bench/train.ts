/**
 * LoRA fine-tuning throughput of the bundled base model at a fixed batch (8 × 64 tokens, rank 8 on every
 * projection), and model FLOP utilisation against jax-js's own matmul GFLOP/s measured in the same run.
 * Model FLOPs per step = 2 × forward matmul FLOPs (forward + activation gradients; the frozen base needs no
 * weight gradients, the LoRA factors' are negligible). TRIBUTARY_JAX_THREADS=2 uses both cores.
 */
import { readFileSync } from 'node:fs';
import {
  baseModelFromGguf,
  bundledBaseModel,
  createLoraTrainer,
  defaultAdamW,
  forwardFlopsPerToken,
  loraTargets,
  measureMatmulGflops,
  Rng,
  startJaxBackend,
  type TokenBatch,
} from '../src/engine/index.js';

const batchSize = 8;
const seqLen = 64;
const warmupSteps = 2;
const measuredSteps = 8;

function batch(vocabSize: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  const inputs = Int32Array.from({ length: batchSize * seqLen }, () => rng.int(vocabSize));
  const targets = Int32Array.from({ length: batchSize * seqLen }, () => rng.int(vocabSize));
  return { batchSize, seqLen, inputs, targets };
}

export async function run(): Promise<void> {
  const backend = await startJaxBackend();
  const threads = backend.threads;
  const { weights } = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path)));
  const cfg = weights.config;
  const matmul = await measureMatmulGflops();
  const trainer = createLoraTrainer({
    base: weights,
    lora: { rank: 8, alpha: 16, dropout: 0, targets: loraTargets },
    seed: 1,
    optimizer: defaultAdamW,
    schedule: { warmupSteps: 0, totalSteps: warmupSteps + measuredSteps, minLrRatio: 1 },
  });
  const times: number[] = [];
  for (let s = 0; s < warmupSteps + measuredSteps; s++) {
    const t0 = performance.now();
    await trainer.step(batch(cfg.vocabSize, s));
    if (s >= warmupSteps) times.push(performance.now() - t0);
  }
  trainer.dispose();
  const msPerStep = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  const tokens = batchSize * seqLen;
  const achievedGflops = (2 * forwardFlopsPerToken(cfg, seqLen) * tokens) / msPerStep / 1e6;
  process.stderr.write(
    `${JSON.stringify({ threads, batchSize, seqLen, rank: 8, matmul: matmul.measurements, achievedGflops })}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      suite: 'train',
      library: 'jax-js',
      tokensPerSec: Math.round(tokens / (msPerStep / 1000)),
      msPerStep: +msPerStep.toFixed(1),
      matmulGflops: +matmul.best.toFixed(2),
      mfu: +(achievedGflops / matmul.best).toFixed(3),
    })}\n`,
  );
  await backend.stop();
}
