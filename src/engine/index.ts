/**
 * The model engine: tokenizer, llama-architecture model on jax-js, LoRA, training, per-example gradients,
 * GGUF/safetensors I/O, PEFT import, content hashes and the llama.cpp runtime. Other folders import only this.
 */
export { adapterFromGguf, adapterToGguf } from './adapter-gguf.js';
export { type BaseModelDescription, describeBaseModel } from './base-model-info.js';
export type { TokenBatch } from './batch.js';
export { bundledBaseModel } from './bundled.js';
export { type ChatMessage, formatChat, formatInstruction } from './chat.js';
export {
  decodeLoraCheckpoint,
  decodePretrainCheckpoint,
  encodeLoraCheckpoint,
  encodePretrainCheckpoint,
} from './checkpoint.js';
export {
  countLoraParams,
  countParams,
  ENGINE_MEMORY_LIMIT_BYTES,
  engineBaseBytes,
  forwardFlopsPerToken,
  type LlamaConfig,
  type LoraConfig,
  loraTargets,
  validateLoraConfig,
} from './config.js';
export { createJaxEngine, type TrainingEngine } from './engine.js';
export { type GgufValue, ggmlType, kv } from './gguf.js';
export { ggufTensor, readGguf } from './gguf-read.js';
export { writeGguf } from './gguf-write.js';
export { artifactHash } from './hash.js';
export { createLlamaModel } from './inference.js';
export { startJaxBackend } from './jax-backend.js';
export { stopJaxWorkers } from './jax-preload.js';
export { baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
export { createLoraTrainer } from './lora-trainer.js';
export { defaultAdamW } from './optim.js';
export { importPeftAdapter, peftToGgufAdapter } from './peft.js';
export { createPerExampleGradients, type PerExampleGradientEngine } from './per-example.js';
export { createPretrainer } from './pretrainer.js';
export { Rng } from './rng.js';
export { type CompleteOptions, createLlamaRuntime, type LlamaRuntime, type ServingContext } from './runtime.js';
export { writeSafetensors } from './safetensors.js';
export { measureMatmulGflops } from './throughput.js';
export { createTokenizer, endOfText, type Tokenizer, trainBpe, type Vocabulary } from './tokenizer.js';
export type { StepResult, TrainState } from './trainer.js';
export { engineLibraryVersions } from './versions.js';
export {
  initLlamaWeights,
  initLoraWeights,
  type LlamaWeights,
  type LoraWeights,
  namedLlamaTensors,
  namedLoraTensors,
  type Tensor,
} from './weights.js';
