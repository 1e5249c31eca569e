/**
 * The model engine: tokenizer, llama-architecture model on jax-js, LoRA, training, per-example gradients,
 * GGUF/safetensors I/O, PEFT import, content hashes and the llama.cpp runtime. Other folders import only this.
 */

export { adapterFromGguf, adapterToGguf } from './adapter-gguf.js';
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
  forwardFlopsPerToken,
  headDim,
  type LlamaConfig,
  type LoraConfig,
  type LoraTarget,
  loraTargets,
  projectionShapes,
  validateLlamaConfig,
  validateLoraConfig,
} from './config.js';
export { createJaxEngine, type TrainingEngine } from './engine.js';
export { type GgufValue, ggmlType, ggufValueType, kv } from './gguf.js';
export { type GgufFile, ggufMeta, ggufTensor, readGguf } from './gguf-read.js';
export { writeGguf } from './gguf-write.js';
export { type ArtifactHash, artifactHash } from './hash.js';
export { createLlamaModel, type LlamaModel } from './inference.js';
export { type JaxBackend, startJaxBackend } from './jax-backend.js';
export { type BaseModelFile, baseModelFromGguf, baseModelToGguf, tokenizerMetadata } from './llama-gguf.js';
export { createLoraTrainer, type LoraTrainer, type LoraTrainerOptions } from './lora-trainer.js';
export { type AdamWConfig, defaultAdamW, learningRate, type ScheduleConfig } from './optim.js';
export { importPeftAdapter, type PeftImportInput, peftToGgufAdapter } from './peft.js';
export {
  createPerExampleGradients,
  type PerExampleGradientEngine,
  type PerExampleGradients,
} from './per-example.js';
export { preTokenize } from './pretokenize.js';
export { createPretrainer, type Pretrainer, type PretrainerOptions } from './pretrainer.js';
export { Rng } from './rng.js';
export {
  type AdapterRef,
  type CompleteOptions,
  type Completion,
  createLlamaRuntime,
  type GenerateOptions,
  type Generation,
  type LlamaRuntime,
  type LlamaRuntimeOptions,
  type ServingContext,
} from './runtime.js';
export { readSafetensors, type SafetensorsFile, writeSafetensors } from './safetensors.js';
export { type MatmulMeasurement, measureMatmulGflops } from './throughput.js';
export {
  createTokenizer,
  endOfText,
  type Tokenizer,
  tokenType,
  trainBpe,
  type Vocabulary,
} from './tokenizer.js';
export type { StepResult, TrainState } from './trainer.js';
export { engineLibraryVersions } from './versions.js';
export {
  initLlamaWeights,
  initLoraWeights,
  type LayerWeights,
  type LlamaWeights,
  type LoraPairWeights,
  type LoraWeights,
  namedLlamaTensors,
  namedLoraTensors,
  type Tensor,
} from './weights.js';
