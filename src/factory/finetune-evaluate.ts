/**
 * The evaluation stage of a fine-tune job: held-out loss through our engine; logit parity with llama.cpp and
 * exact match through llama.cpp, which serves the adapter later.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { at } from '../core/index.js';
import {
  createLlamaRuntime,
  formatInstruction,
  type LlamaWeights,
  type LoraWeights,
  type TrainingEngine,
} from '../engine/index.js';
import { type TrainingExample, toBatch } from './dataset.js';
import { type Evaluation, exactMatchExamples, exactMatchRate, maxAbsDiff } from './finetune-stages.js';

export interface EvaluationInput {
  /** The base model's weights, and its GGUF file for llama.cpp. */
  base: { weights: LlamaWeights; path: string };
  /** The trained adapter's weights and its GGUF bytes. */
  adapter: { weights: LoraWeights; bytes: Uint8Array };
  evaluation: TrainingExample[];
  train: TrainingExample[];
  batchSize: number;
  seqLen: number;
  eosId: number;
}

/** The held-out loss (null without held-out examples), exact match on both splits, and the parity of the logits. */
export async function evaluateAdapter(
  engine: TrainingEngine,
  input: EvaluationInput,
  threads: number,
): Promise<Evaluation> {
  const { evaluation, train, batchSize, seqLen, eosId } = input;
  const adapterWeights = input.adapter.weights;
  const model = engine.model(input.base.weights);
  let evalLoss: number | null = null;
  if (evaluation.length > 0) {
    let sum = 0;
    for (let i = 0; i < evaluation.length; i += batchSize) {
      const members = evaluation.slice(i, i + batchSize);
      sum += (await model.loss(toBatch(members, seqLen, eosId), adapterWeights)) * members.length;
    }
    evalLoss = sum / evaluation.length;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tributary-adapter-'));
  const adapterPath = join(dir, 'adapter.gguf');
  writeFileSync(adapterPath, input.adapter.bytes);
  const runtime = await createLlamaRuntime({ modelPath: input.base.path, threads });
  try {
    const probe = (evaluation[0] ?? at(train, 0)).tokens.slice(0, seqLen);
    const [ours, theirs] = [
      await model.logits(probe, adapterWeights),
      await runtime.logits(probe, [{ path: adapterPath }]),
    ];
    const parityMaxAbsDiff = maxAbsDiff(ours, theirs);
    /** Exact match on (the first 16 supervised examples of) a split, answers generated with the adapter. */
    const matchRate = async (set: TrainingExample[]) => {
      const qa = exactMatchExamples(set);
      const answers: string[] = [];
      for (const e of qa) {
        const g = await runtime.generate({
          prompt: formatInstruction(e.prompt),
          maxTokens: 40,
          adapters: [{ path: adapterPath }],
        });
        answers.push(g.text);
      }
      return exactMatchRate(qa, answers);
    };
    const exactMatch = await matchRate(evaluation);
    const trainExactMatch = await matchRate(train);
    return { evalLoss, exactMatch, trainExactMatch, parityMaxAbsDiff };
  } finally {
    model.dispose();
    await runtime.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
