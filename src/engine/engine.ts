/**
 * The engine seam: everything that needs the autograd library goes through a `TrainingEngine`, so another
 * backend can replace jax-js by implementing this interface (and passing the shared tests). Callers such as
 * ModelFactory receive an engine instead of importing jax-js-specific factories.
 */
import { createLlamaModel, type LlamaModel } from './inference.js';
import { startJaxBackend } from './jax-backend.js';
import { createLoraTrainer, type LoraTrainer, type LoraTrainerOptions } from './lora-trainer.js';
import { createPerExampleGradients, type PerExampleGradientEngine } from './per-example.js';
import { createPretrainer, type Pretrainer, type PretrainerOptions } from './pretrainer.js';
import { measureMatmulGflops } from './throughput.js';
import type { LlamaWeights, LoraWeights } from './weights.js';

export interface TrainingEngine {
  /** The autograd library, for receipts ("jax-js"). */
  readonly library: string;
  readonly threads: number;
  /** Forward logits and evaluation loss. */
  model(weights: LlamaWeights): LlamaModel;
  pretrainer(options: PretrainerOptions): Pretrainer;
  loraTrainer(options: LoraTrainerOptions): LoraTrainer;
  perExampleGradients(base: LlamaWeights, adapter: LoraWeights): PerExampleGradientEngine;
  /** The library's best matmul GFLOP/s on this machine now (the MFU denominator). */
  matmulGflops(): Promise<number>;
}

/** A jax-js (wasm) engine on 1 or 2 threads. jax-js has one backend per process: the first call fixes threads. */
export async function createJaxEngine(options: { threads?: number } = {}): Promise<TrainingEngine> {
  const backend = await startJaxBackend(options);
  return {
    library: 'jax-js',
    threads: backend.threads,
    model: createLlamaModel,
    pretrainer: createPretrainer,
    loraTrainer: createLoraTrainer,
    perExampleGradients: createPerExampleGradients,
    matmulGflops: async () => (await measureMatmulGflops()).best,
  };
}
