/**
 * LoRA fine-tuning throughput (rank 8 on every projection) of the bundled base at 8 × 64 tokens and of a
 * 135M-parameter llama shape at 2 × 64, and model FLOP utilisation against jax-js's own matmul GFLOP/s measured
 * in the same run.
 * Model FLOPs per step = 2 × forward matmul FLOPs (forward + activation gradients; the frozen base needs no
 * weight gradients, the LoRA factors' are negligible). TRIBUTARY_JAX_THREADS=2 uses both cores.
 * The factory's memory estimate for the same run is printed beside the process's peak RSS while it trained
 * (`estimateOverRss` ≥ 1: the estimate refuses what would not fit rather than what would).
 */
// biome-ignore assist/source/organizeImports: first, to wrap WebAssembly.Memory before jax-js creates its memory.
import { wasmMemoryBytes } from './wasm-memory-probe.js';

import { readFileSync } from 'node:fs';
import {
  baseModelFromGguf,
  bundledBaseModel,
  createLoraTrainer,
  defaultAdamW,
  forwardFlopsPerToken,
  initLlamaWeights,
  type LlamaConfig,
  type LlamaWeights,
  loraTargets,
  measureMatmulGflops,
  Rng,
  startJaxBackend,
  type TokenBatch,
} from '../src/engine/index.js';
import { estimateFineTune } from '../src/factory/index.js';

/**
 * The shapes measured: the bundled base (its GGUF), and SmolLM2-135M's shape with random weights (30 layers, dim
 * 576, 9 heads / 3 KV heads, FFN 1536, vocabulary 49,152, tied embeddings) — what fine-tuning a real small model
 * costs on this CPU, without downloading one. `--shape NAME` measures one.
 */
const shapes = {
  bundled: { batchSize: 8, seqLen: 64, measuredSteps: 8 },
  'smollm-135m': {
    batchSize: 2,
    seqLen: 64,
    measuredSteps: 3,
    config: {
      vocabSize: 49_152,
      dim: 576,
      nLayers: 30,
      nHeads: 9,
      nKvHeads: 3,
      ffnDim: 1536,
      contextLength: 2048,
      ropeTheta: 100_000,
      normEps: 1e-5,
      tieEmbeddings: true,
    } satisfies LlamaConfig,
  },
} as const;
type Shape = keyof typeof shapes;
const warmupSteps = 1;

function batch(vocabSize: number, batchSize: number, seqLen: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  const inputs = Int32Array.from({ length: batchSize * seqLen }, () => rng.int(vocabSize));
  const targets = Int32Array.from({ length: batchSize * seqLen }, () => rng.int(vocabSize));
  return { batchSize, seqLen, inputs, targets };
}

function weightsOf(shape: Shape): LlamaWeights {
  const s = shapes[shape];
  return 'config' in s
    ? initLlamaWeights(s.config, 1)
    : baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights;
}

function shapesAsked(): Shape[] {
  const i = process.argv.indexOf('--shape');
  if (i < 0) return Object.keys(shapes) as Shape[];
  const name = process.argv[i + 1] ?? '';
  if (!Object.hasOwn(shapes, name))
    throw new Error(`--shape must be one of ${Object.keys(shapes).join(', ')}, not "${name}"`);
  return [name as Shape];
}

export async function run(): Promise<void> {
  const backend = await startJaxBackend();
  const wasmBytes = wasmMemoryBytes;
  const threads = backend.threads;
  // Measured once, in this run: the peak the model FLOP utilisation is relative to.
  const matmul = await measureMatmulGflops();
  for (const shape of shapesAsked()) {
    const { batchSize, seqLen, measuredSteps } = shapes[shape];
    const weights = weightsOf(shape);
    const cfg = weights.config;
    const trainer = createLoraTrainer({
      base: weights,
      lora: { rank: 8, alpha: 16, dropout: 0, targets: loraTargets },
      seed: 1,
      optimizer: defaultAdamW,
      schedule: { warmupSteps: 0, totalSteps: warmupSteps + measuredSteps, minLrRatio: 1 },
    });
    const times: number[] = [];
    let peakRss = process.memoryUsage().rss;
    let peakWasm = wasmBytes();
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      peakWasm = Math.max(peakWasm, wasmBytes());
    };
    const sampler = setInterval(sample, 20);
    for (let s = 0; s < warmupSteps + measuredSteps; s++) {
      const t0 = performance.now();
      await trainer.step(batch(cfg.vocabSize, batchSize, seqLen, s));
      if (s >= warmupSteps) times.push(performance.now() - t0);
      sample();
    }
    clearInterval(sampler);
    trainer.dispose();
    const estimate = estimateFineTune(
      cfg,
      { rank: 8, alpha: 16, dropout: 0, targets: loraTargets },
      { steps: warmupSteps + measuredSteps, batchSize, seqLen },
    );
    const msPerStep = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    const tokens = batchSize * seqLen;
    const achievedGflops = (2 * forwardFlopsPerToken(cfg, seqLen) * tokens) / msPerStep / 1e6;
    const params =
      cfg.vocabSize * cfg.dim +
      cfg.nLayers * (cfg.dim * cfg.dim * (2 + (2 * cfg.nKvHeads) / cfg.nHeads) + 3 * cfg.dim * cfg.ffnDim);
    process.stderr.write(
      `${JSON.stringify({ shape, threads, batchSize, seqLen, rank: 8, matmul: matmul.measurements, achievedGflops })}\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        suite: 'train',
        shape,
        params,
        library: 'jax-js',
        batchSize,
        seqLen,
        tokensPerSec: +(tokens / (msPerStep / 1000)).toFixed(1),
        msPerStep: +msPerStep.toFixed(1),
        matmulGflops: +matmul.best.toFixed(2),
        mfu: +(achievedGflops / matmul.best).toFixed(3),
        estimatedMemoryMiB: Math.round(estimate.memoryBytes / 2 ** 20),
        peakRssMiB: Math.round(peakRss / 2 ** 20),
        estimateOverRss: +(estimate.memoryBytes / peakRss).toFixed(2),
        estimatedEngineMiB: Math.round(estimate.engineBytes / 2 ** 20),
        engineMemoryMiB: Math.round(peakWasm / 2 ** 20),
      })}\n`,
    );
  }
  await backend.stop();
}
