import type { Address, Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { contextBlock, groundedPrompt } from '../attribution/index.js';
import { at, canonicalJson, cidOf, hashObject, keccak256 } from '../core/index.js';
import {
  artifactHash,
  ENGINE_MEMORY_LIMIT_BYTES,
  formatInstruction,
  type LlamaConfig,
  type Tokenizer,
} from '../engine/index.js';
import { trainingReceiptOf, type VersionExportRow } from '../protocol/index.js';
import {
  type Bucket,
  bucketBatchAt,
  bucketOf,
  groundedExamples,
  type SftExample,
  type TrainingExample,
} from './dataset.js';
import { checkFits, estimateFineTune } from './estimate.js';
import {
  configHashOf,
  type Evaluation,
  evaluatingProgress,
  exactMatchExamples,
  exactMatchRate,
  fineTuneMetrics,
  loraSetup,
  maxAbsDiff,
  normalizeAnswer,
  preparingProgress,
  requirePublished,
  resumeFrom,
  trainingExamples,
  trainingProgress,
  trainingReceipt,
  trainingSchedule,
  versionRows,
} from './finetune-stages.js';
import { type Hyper, hyperSchema } from './request.js';

const hyper: Hyper = hyperSchema.parse({});
const contributor: Address = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const idOf = (n: number): Hex => keccak256(`contribution ${n}`);

/** One character per token, end of text 0: enough to see cut-offs and loss weights. */
const charTokenizer: Tokenizer = {
  vocab: { tokens: [], tokenTypes: [], merges: [], bosId: 1, eosId: 0 },
  encode: (text) => [...text].map((c) => c.charCodeAt(0)),
  decode: (ids) => String.fromCharCode(...ids),
};

function exportRow(n: number, content: Record<string, unknown>, text: string): VersionExportRow {
  return { id: idOf(n), contributor, cid: cidOf(canonicalJson(content)), content, text };
}

const tinyModel: LlamaConfig = {
  vocabSize: 256,
  dim: 32,
  nLayers: 2,
  nHeads: 2,
  nKvHeads: 2,
  ffnDim: 64,
  contextLength: 128,
  ropeTheta: 10_000,
  normEps: 1e-5,
  tieEmbeddings: true,
};
const roomy = { maxSeconds: 3600, freeBytes: 64 * 2 ** 30 };

describe('requirePublished', () => {
  it('accepts a version committed on chain', () => {
    expect(() => requirePublished({ status: 'published' }, 3n, 2)).not.toThrow();
  });

  it('refuses a draft with CONFLICT naming the version and the DataNet', () => {
    expect(() => requirePublished({ status: 'draft' }, 3n, 2)).toThrow(
      expect.objectContaining({
        code: 'CONFLICT',
        message: 'Version 2 of DataNet 3 is not committed on chain yet',
        details: { field: 'dataNetVersion' },
      }),
    );
  });
});

describe('versionRows', () => {
  it("reads a version export's rows in order", () => {
    const rows = [exportRow(1, { text: 'a' }, 'a'), exportRow(2, { text: 'b' }, 'b')];
    const jsonl = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    expect(versionRows(jsonl, 3n, 1)).toEqual(rows);
  });

  it.each([
    ['nothing', ''],
    ['blank lines', '\n\n'],
  ])('refuses an empty version (%s) with CONFLICT: no rows to train on', (_, jsonl) => {
    expect(() => versionRows(jsonl, 3n, 1)).toThrow(
      expect.objectContaining({
        code: 'CONFLICT',
        message: 'Version 1 of DataNet 3 has no rows to train on (all withdrawn?)',
      }),
    );
  });

  it('refuses a malformed export, naming it and the line', () => {
    const good = JSON.stringify(exportRow(1, { text: 'a' }, 'a'));
    expect(() => versionRows(`${good}\n{"id": "nope"}\n`, 3n, 1)).toThrow(/DataNet 3 version 1 export.*2/);
  });
});

describe('loraSetup', () => {
  it('takes the requested sequence length, capped at the base model context', () => {
    expect(loraSetup({ ...hyper, seqLen: 64 }, 128).seqLen).toBe(64);
    expect(loraSetup({ ...hyper, seqLen: 256 }, 128).seqLen).toBe(128);
  });

  it('carries the LoRA hyperparameters', () => {
    expect(loraSetup({ ...hyper, rank: 4, alpha: 8, dropout: 0, targets: ['q', 'v'] }, 128).lora).toEqual({
      rank: 4,
      alpha: 8,
      dropout: 0,
      targets: ['q', 'v'],
    });
  });

  it('refuses a LoRA config the engine cannot train (dropout 1)', () => {
    expect(() => loraSetup({ ...hyper, dropout: 1 }, 128)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'dropout must be in [0, 1)' }),
    );
  });
});

describe('trainingExamples', () => {
  const rows = Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0
      ? exportRow(i, { question: `q${i}?`, answer: `a${i}` }, `q${i}? a${i}`)
      : exportRow(i, { text: `plain text number ${i}` }, `plain text number ${i}`),
  );

  it('tokenizes every row (question/answer rows as supervised) and holds out evalFraction of them', () => {
    const { examples, train, evaluation } = trainingExamples(rows, charTokenizer, 64, { evalFraction: 0.2, seed: 1 });
    expect(examples.map((e) => e.contributionId)).toEqual(rows.map((r) => r.id));
    expect(examples.map((e) => e.kind)).toEqual(rows.map((_, i) => (i % 2 === 0 ? 'sft' : 'text')));
    expect(evaluation).toHaveLength(2);
    expect(train).toHaveLength(8);
    for (const e of [...train, ...evaluation]) expect(examples).toContain(e);
  });

  it('cuts examples at seqLen + 1 tokens', () => {
    const { examples } = trainingExamples(rows, charTokenizer, 4, { evalFraction: 0, seed: 1 });
    for (const e of examples) expect(e.tokens.length).toBeLessThanOrEqual(5);
  });

  it('splits the same way for the same seed, and trains on everything without an eval fraction', () => {
    const a = trainingExamples(rows, charTokenizer, 64, { evalFraction: 0.3, seed: 9 });
    const b = trainingExamples(rows, charTokenizer, 64, { evalFraction: 0.3, seed: 9 });
    expect(a.evaluation.map((e) => e.contributionId)).toEqual(b.evaluation.map((e) => e.contributionId));
    expect(trainingExamples(rows, charTokenizer, 64, { evalFraction: 0, seed: 9 }).evaluation).toEqual([]);
  });
});

/** One bucket of `n` examples trained at `seqLen` (the schedule reads only how many there are). */
const examplesOf = (n: number, seqLen: number): Bucket[] => [
  {
    examples: Array.from(
      { length: n },
      (): TrainingExample => ({ contributionId: '0x', contributor: '0x', kind: 'text', tokens: [1], weights: [1] }),
    ),
    seqLen,
  },
];

describe('grounded examples (the facts preset trains answering from a retrieved passage)', () => {
  const rows = [0, 1, 2, 3].map((i) =>
    exportRow(
      i,
      { instruction: `What is fact ${i}?`, response: `Fact ${i} is ${i * 11}.` },
      `What is fact ${i}?\nFact ${i} is ${i * 11}.`,
    ),
  );

  it("trains each row once as its own passage before another row's question, answered with its response", () => {
    const grounded = groundedExamples(rows, charTokenizer, 10_000, 7);
    expect(grounded.map((e) => e.contributionId)).toEqual(rows.map((r) => r.id));
    for (const [i, e] of grounded.entries()) {
      const row = at(rows, i);
      const asked = rows.find(
        (r) =>
          e.prompt ===
          groundedPrompt(formatInstruction(String(r.content.instruction)), { context: contextBlock([row.text]) }),
      );
      expect(asked).toBeDefined();
      expect(asked?.id).not.toBe(row.id); // the question does not say what to answer; the passage does
      expect(e.response).toBe(row.content.response);
      // Only the answer is in the loss.
      expect(charTokenizer.decode?.(e.tokens.filter((_, t) => e.weights[t] === 1))).toBe(
        ` ${row.content.response}\u0000`,
      );
    }
    expect(groundedExamples(rows, charTokenizer, 10_000, 7)).toEqual(grounded); // deterministic
  });

  it('leaves out a grounded example longer than the cutoff rather than cutting its answer', () => {
    const lengths = groundedExamples(rows, charTokenizer, 10_000, 7).map((e) => e.tokens.length);
    const cutoff = Math.min(...lengths);
    const kept = groundedExamples(rows, charTokenizer, cutoff, 7);
    expect(kept.length).toBe(lengths.filter((n) => n <= cutoff).length);
    expect(kept.every((e) => e.tokens.length <= cutoff)).toBe(true);
    expect(groundedExamples(rows.slice(0, 1), charTokenizer, 10_000, 7)).toEqual([]); // no other question to ask
  });

  it('trains the buckets in turn, each example once per epoch at its own length, the same batch for the same step', () => {
    const example = (n: number, length: number): TrainingExample => ({
      contributionId: idOf(n),
      contributor,
      kind: 'text',
      tokens: Array.from({ length }, () => 5),
      weights: Array.from({ length }, () => 1),
    });
    const short = bucketOf(
      [0, 1, 2, 3, 4].map((n) => example(n, 10)),
      64,
    );
    const long = bucketOf(
      [5, 6, 7].map((n) => example(n, 40)),
      64,
    );
    expect([short.seqLen, long.seqLen]).toEqual([16, 40]);
    expect(bucketOf([example(8, 100)], 64).seqLen).toBe(64);
    const batches = Array.from({ length: 5 }, (_, step) => bucketBatchAt([short, long], step, 2, 3, 0));
    // 3 batches of the short bucket and 2 of the long one per epoch, alternating while both last.
    expect(batches.map((b) => b.batch.seqLen)).toEqual([16, 40, 16, 40, 16]);
    const seen = batches.flatMap((b) => b.members.map((m) => m.contributionId));
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7]) expect(seen).toContain(idOf(n));
    expect(bucketBatchAt([short, long], 3, 2, 3, 0)).toEqual(at(batches, 3));
  });
});

describe('trainingSchedule', () => {
  const lora = loraSetup(hyper, tinyModel.contextLength).lora;

  it('runs epochs passes over the training split in batches, with warmup and the requested optimizer', () => {
    const h = { ...hyper, epochs: 3, batchSize: 4, warmupFraction: 0.1, learningRate: 0.01, weightDecay: 0.1 };
    const s = trainingSchedule(h, examplesOf(10, 32), tinyModel, lora, roomy);
    expect(s.totalSteps).toBe(8); // ceil(3 × 10 / 4)
    expect(s.schedule).toEqual({ warmupSteps: 1, totalSteps: 8, minLrRatio: h.minLrRatio });
    expect(s.optimizer).toEqual({
      lr: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.1,
      clipNorm: h.clipNorm,
    });
    expect(s.estimate).toMatchObject({ steps: 8, tokens: 8 * 4 * 32 });
  });

  it('takes explicit steps over epochs, and trains at least one step', () => {
    expect(trainingSchedule({ ...hyper, steps: 5 }, examplesOf(1000, 32), tinyModel, lora, roomy).totalSteps).toBe(5);
    expect(trainingSchedule(hyper, examplesOf(0, 32), tinyModel, lora, roomy).totalSteps).toBe(1);
  });

  it("refuses a fine-tune over the node's time limit with INVALID_ARGUMENT", () => {
    expect(() =>
      trainingSchedule({ ...hyper, steps: 100 }, examplesOf(10, 32), tinyModel, lora, { ...roomy, maxSeconds: 0 }),
    ).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/lower steps or epochs$/) }),
    );
  });

  it('refuses a fine-tune that does not fit in memory', () => {
    expect(() =>
      trainingSchedule(hyper, examplesOf(10, 32), tinyModel, lora, { ...roomy, freeBytes: 2 ** 20 }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/lower batchSize or seqLen$/),
      }),
    );
  });
});

describe("the training engine's 4 GiB memory", () => {
  it('refuses a fine-tune whose engine part exceeds it, however much memory the machine has, naming serve-only', () => {
    // A 1.5B-parameter shape (Qwen2.5-1.5B's): 6 GiB of F32 weights.
    const big = { ...tinyModel, vocabSize: 151_936, dim: 1536, nLayers: 28, nHeads: 12, nKvHeads: 2, ffnDim: 8960 };
    const e = estimateFineTune(
      big,
      { rank: 8, alpha: 16, dropout: 0, targets: ['q', 'v'] },
      { steps: 1, batchSize: 1, seqLen: 64 },
    );
    expect(e.engineBytes).toBeGreaterThan(ENGINE_MEMORY_LIMIT_BYTES);
    expect(() => checkFits(e, { maxSeconds: 1e9, freeBytes: 2 ** 40 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('WebAssembly memory stops at 4096 MiB'),
      }),
    );
  });
});

describe('configHashOf', () => {
  const dataNet = { id: '3', version: 1, root: idOf(0) };
  const lora = loraSetup(hyper, 128).lora;
  const base = idOf(99);

  it('is the hash of base, data, hyperparameters, sequence length and LoRA config', () => {
    expect(configHashOf(base, dataNet, hyper, 64, lora)).toBe(hashObject({ base, dataNet, hyper, seqLen: 64, lora }));
  });

  it('changes with any of them', () => {
    const h = configHashOf(base, dataNet, hyper, 64, lora);
    expect(configHashOf(idOf(98), dataNet, hyper, 64, lora)).not.toBe(h);
    expect(configHashOf(base, { ...dataNet, version: 2 }, hyper, 64, lora)).not.toBe(h);
    expect(configHashOf(base, dataNet, { ...hyper, seed: 1 }, 64, lora)).not.toBe(h);
    expect(configHashOf(base, dataNet, hyper, 32, lora)).not.toBe(h);
    expect(configHashOf(base, dataNet, hyper, 64, { ...lora, rank: 2 })).not.toBe(h);
  });
});

describe('resumeFrom', () => {
  const state = { step: 25, weights: 'w', m: 'm', v: 'v' };

  it('starts from scratch without a checkpoint', () => {
    expect(resumeFrom(undefined)).toEqual({});
  });

  it("resumes from a checkpoint's state with the first loss stored beside it", () => {
    expect(resumeFrom({ state, extra: { lossFirst: 5.5 } })).toEqual({ resume: state, lossFirst: 5.5 });
  });

  it('ignores a stored first loss that is not a number', () => {
    expect(resumeFrom({ state, extra: { lossFirst: '5.5' } })).toEqual({ resume: state });
  });
});

describe('progress records', () => {
  it('preparing: the estimate, and the first loss only when resuming knows it', () => {
    const estimate = { steps: 10, tokens: 100, memoryBytes: 1, engineBytes: 1, seconds: 2 };
    expect(preparingProgress(0, 10, estimate, undefined)).toEqual({
      phase: 'preparing',
      step: 0,
      totalSteps: 10,
      estimate,
    });
    expect(preparingProgress(5, 10, estimate, 4.2)).toEqual({
      phase: 'preparing',
      step: 5,
      totalSteps: 10,
      estimate,
      lossFirst: 4.2,
    });
  });

  it('training: throughput since training started and the time left at that pace', () => {
    const p = trainingProgress({
      step: 10,
      totalSteps: 30,
      loss: 2,
      lossFirst: 5,
      trainedTokens: 2000,
      elapsedMs: 4000,
      batchSize: 4,
      seqLen: 50,
      checkpointCid: 'cid',
    });
    expect(p).toEqual({
      phase: 'training',
      step: 10,
      totalSteps: 30,
      loss: 2,
      lossFirst: 5,
      tokensPerSec: 500,
      etaSeconds: 8, // 20 steps × 4 × 50 tokens at 500/s
      checkpointCid: 'cid',
    });
  });

  it('evaluating: keeps the resume point, leaves out what training did not produce', () => {
    expect(
      evaluatingProgress({ step: 3, totalSteps: 3, lossFirst: undefined, loss: undefined, checkpointCid: undefined }),
    ).toEqual({ phase: 'evaluating', step: 3, totalSteps: 3, lossFirst: 0 });
    expect(evaluatingProgress({ step: 3, totalSteps: 3, lossFirst: 4, loss: 1, checkpointCid: 'cid' })).toEqual({
      phase: 'evaluating',
      step: 3,
      totalSteps: 3,
      lossFirst: 4,
      loss: 1,
      checkpointCid: 'cid',
    });
  });
});

describe('maxAbsDiff', () => {
  it('is the largest absolute difference between two logit vectors', () => {
    expect(maxAbsDiff(new Float32Array([1, 2, 3]), new Float32Array([1.5, 2, 1]))).toBe(2);
    expect(maxAbsDiff(new Float32Array([]), new Float32Array([]))).toBe(0);
  });

  it('refuses llama.cpp logits shorter than ours (INTERNAL)', () => {
    expect(() => maxAbsDiff(new Float32Array([1, 2]), new Float32Array([1]))).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});

describe('exact match', () => {
  const sft = (n: number, response: string): SftExample => ({
    kind: 'sft',
    contributionId: idOf(n),
    contributor,
    tokens: [],
    weights: [],
    prompt: `q${n}`,
    response,
  });
  const text = (n: number): TrainingExample => ({
    kind: 'text',
    contributionId: idOf(n),
    contributor,
    tokens: [],
    weights: [],
  });

  it('compares answers trimmed, in lower case, with single spaces and without a final full stop', () => {
    expect(normalizeAnswer('  The  Red\tPlanet.!  ')).toBe('the red planet');
    expect(exactMatchRate([sft(1, 'Mars.'), sft(2, 'Venus')], [' mars', 'Jupiter'])).toBe(0.5);
  });

  it('measures the first 16 supervised examples, skipping plain text', () => {
    const set = [text(0), ...Array.from({ length: 20 }, (_, i) => sft(i + 1, 'a'))];
    const picked = exactMatchExamples(set);
    expect(picked).toHaveLength(16);
    expect(picked[0]?.contributionId).toBe(idOf(1));
  });

  it('has no rate without supervised examples', () => {
    expect(exactMatchExamples([text(0)])).toEqual([]);
    expect(exactMatchRate([], [])).toBeNull();
  });
});

const evaluation: Evaluation = { evalLoss: 1, exactMatch: 0.5, trainExactMatch: 1, parityMaxAbsDiff: 0.001 };

describe('fineTuneMetrics', () => {
  const base = {
    totalSteps: 10,
    trainExamples: 8,
    evalExamples: 2,
    lossFirst: 5,
    lossLast: 2,
    evaluation,
    trainedTokens: 1000,
    trainMs: 2000,
    totalMs: 12_345,
  };

  it('reports losses, perplexity, exact match, parity, throughput and time', () => {
    expect(fineTuneMetrics(base)).toEqual({
      steps: 10,
      trainExamples: 8,
      evalExamples: 2,
      lossFirst: 5,
      lossLast: 2,
      evalLoss: 1,
      perplexity: Math.E,
      exactMatch: 0.5,
      trainExactMatch: 1,
      parityMaxAbsDiff: 0.001,
      tokensPerSec: 500,
      seconds: 12.3,
    });
  });

  it('falls back to the first loss (or 0) when no step ran in this attempt, and has no perplexity without eval loss', () => {
    const m = fineTuneMetrics({
      ...base,
      lossLast: undefined,
      evaluation: { ...evaluation, evalLoss: null },
      trainMs: 0,
    });
    expect(m.lossLast).toBe(5);
    expect(m.perplexity).toBeNull();
    expect(m.tokensPerSec).toBe(1_000_000); // 1000 tokens over the 1 ms floor
    expect(fineTuneMetrics({ ...base, lossFirst: undefined, lossLast: undefined })).toMatchObject({
      lossFirst: 0,
      lossLast: 0,
    });
  });
});

describe('trainingReceipt', () => {
  const examples: TrainingExample[] = [0, 1, 2].map((n) => ({
    kind: 'text',
    contributionId: idOf(n),
    contributor,
    tokens: [n],
    weights: [1],
  }));
  const lora = loraSetup(hyper, 128).lora;
  const schedule = trainingSchedule(hyper, examplesOf(2, 64), tinyModel, lora, roomy);
  const adapterHash = artifactHash(new Uint8Array([1, 2, 3]));
  const receipt = trainingReceipt({
    name: 'planets',
    baseModel: { name: 'tributary-base-4m', sha256: idOf(100), cid: cidOf('base') },
    dataNet: { id: '3', version: 1, root: idOf(101), manifestCid: cidOf('manifest') },
    config: {
      hyper,
      lora,
      seqLen: 64,
      totalSteps: schedule.totalSteps,
      optimizer: schedule.optimizer,
      schedule: schedule.schedule,
    },
    configHash: idOf(102),
    seed: hyper.seed,
    adapter: adapterHash,
    gradientIndex: { cid: cidOf('gradients'), examples: 2, projectionDim: 64 },
    metrics: fineTuneMetrics({
      totalSteps: schedule.totalSteps,
      trainExamples: 2,
      evalExamples: 1,
      lossFirst: 5,
      lossLast: 2,
      evaluation,
      trainedTokens: 100,
      trainMs: 1000,
      totalMs: 2000,
    }),
    examples,
    evaluation: [at(examples, 1)],
    libraries: { tributary: '0.1.0', engine: 'jax-js', threads: 2 },
  });

  it('lists every example in order with its split, held out by identity', () => {
    expect(receipt.examples).toEqual([
      { contributionId: idOf(0), contributor, split: 'train' },
      { contributionId: idOf(1), contributor, split: 'eval' },
      { contributionId: idOf(2), contributor, split: 'train' },
    ]);
    const lookalike = { ...at(examples, 1) };
    const other = trainingReceipt({
      ...receipt,
      examples,
      evaluation: [lookalike],
      gradientIndex: { cid: cidOf('gradients'), examples: 2, projectionDim: 64 },
    });
    expect(other.examples.every((e) => e.split === 'train')).toBe(true);
  });

  it('is a training receipt as the protocol reads it, byte for byte through canonical JSON', () => {
    const text = canonicalJson(receipt);
    const read = trainingReceiptOf(text, 'receipt');
    expect(read).not.toBeNull();
    expect(canonicalJson(read)).toBe(text);
    expect(read?.kind).toBe('tributary.training-receipt');
    expect(read?.version).toBe(1);
  });
});
