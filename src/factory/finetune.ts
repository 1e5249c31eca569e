/**
 * The fine-tune job. Deterministic end to end: the same request (base, DataNet version, hyperparameters, seed)
 * gives the same adapter bytes, and a job interrupted at any point resumes from its last checkpoint and ends with
 * the same adapter hash as an uninterrupted run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { z } from 'zod';
import { buildGradientIndex, encodeGradientIndex, gradientTokenizerId } from '../attribution/index.js';
import { at, BaseError, canonicalJson, hashObject, type Logger, version as tributaryVersion } from '../core/index.js';
import type { DataNetService } from '../datanets/index.js';
import {
  adapterToGguf,
  artifactHash,
  baseModelFromGguf,
  bundledBaseModel,
  createLlamaRuntime,
  createTokenizer,
  decodeLoraCheckpoint,
  defaultAdamW,
  encodeLoraCheckpoint,
  engineLibraryVersions,
  formatInstruction,
  type LoraConfig,
  type LoraWeights,
  type StepResult,
  type TrainingEngine,
  type TrainState,
  validateLoraConfig,
} from '../engine/index.js';
import { factoryApi, parseVersionExport, type TrainingReceipt } from '../protocol/index.js';
import type { BlobStore, JobContext } from '../store/index.js';
import { batchAt, buildExamples, type SftExample, splitHeldOut, type TrainingExample, toBatch } from './dataset.js';
import { checkFits, estimateFineTune } from './estimate.js';
import type { FineTuneRequest } from './request.js';

/** A job's progress, metrics and result are the protocol's (src/protocol/http/factory.ts): what the node answers. */
export type FineTuneProgress = factoryApi.FineTuneProgress;
export type FineTuneMetrics = factoryApi.FineTuneMetrics;
export type FineTuneResult = factoryApi.FineTuneResult;

/**
 * A value this node stored as JSON (a job's progress or result), read back with its schema: INTERNAL names what
 * and which field if it is not what the node writes.
 */
export function readStored<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || '(root)';
  throw new BaseError(
    'INTERNAL',
    `${what} is not what this node stores: field ${field}: ${issue?.message ?? 'invalid'}`,
    {
      details: { field },
    },
  );
}

/** What a restarted job reads of its last progress: the checkpoint it resumes from. */
const resumePoint = factoryApi.fineTuneProgress.pick({ checkpointCid: true }).nullable();

export interface FineTuneDeps {
  blobs: BlobStore;
  datanets: DataNetService;
  engine(): Promise<TrainingEngine>;
  log: Logger;
  /** Longest fine-tune this node accepts, in estimated seconds. */
  maxSeconds: number;
  threads: number;
}

/** Loads the base model: the bundled one by name, or a GGUF from the blob store by CID. */
async function loadBase(
  deps: FineTuneDeps,
  ref: string | undefined,
): Promise<{ name: string; bytes: Uint8Array; path: string }> {
  if (ref === undefined || ref === bundledBaseModel.name) {
    return {
      name: bundledBaseModel.name,
      bytes: new Uint8Array(readFileSync(bundledBaseModel.path)),
      path: bundledBaseModel.path,
    };
  }
  const bytes = await deps.blobs.get(ref).catch(() => undefined);
  const path = deps.blobs.localPath?.(ref);
  if (!bytes || !path) {
    throw new BaseError(
      'NOT_FOUND',
      `Unknown base model "${ref}": use "${bundledBaseModel.name}" or the CID of a GGUF in this node's blob store`,
      {
        details: { field: 'baseModel' },
      },
    );
  }
  return { name: ref, bytes, path };
}

const normalizeAnswer = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.!]+$/, '');

export function fineTuneHandler(deps: FineTuneDeps) {
  return async (ctx: JobContext<FineTuneRequest>): Promise<FineTuneResult> => {
    const started = Date.now();
    const req = ctx.job.payload;
    const hyper = req.hyper;
    const dataNetId = BigInt(req.dataNetId);

    // The data: a published DataNet version.
    const info = await deps.datanets.getVersion(dataNetId, req.dataNetVersion);
    if (info.status !== 'published') {
      throw new BaseError(
        'CONFLICT',
        `Version ${req.dataNetVersion} of DataNet ${dataNetId} is not committed on chain yet`,
        { details: { field: 'dataNetVersion' } },
      );
    }
    let jsonl = '';
    for await (const line of deps.datanets.exportVersion(dataNetId, req.dataNetVersion)) jsonl += line;
    const rows = parseVersionExport(jsonl, `DataNet ${dataNetId} version ${req.dataNetVersion} export`);
    if (rows.length === 0) {
      throw new BaseError(
        'CONFLICT',
        `Version ${req.dataNetVersion} of DataNet ${dataNetId} has no rows to train on (all withdrawn?)`,
        { details: { field: 'dataNetVersion' } },
      );
    }

    // The model.
    const base = await loadBase(deps, req.baseModel);
    const baseHash = artifactHash(base.bytes);
    const baseFile = baseModelFromGguf(base.bytes);
    const tokenizer = createTokenizer(baseFile.vocab);
    const seqLen = Math.min(hyper.seqLen, baseFile.weights.config.contextLength);
    const lora: LoraConfig = validateLoraConfig({
      rank: hyper.rank,
      alpha: hyper.alpha,
      dropout: hyper.dropout,
      targets: hyper.targets,
    });
    const examples = buildExamples(rows, tokenizer, seqLen + 1);
    const { train, evaluation } = splitHeldOut(examples, hyper.evalFraction, hyper.seed);
    const totalSteps = hyper.steps ?? Math.max(1, Math.ceil((hyper.epochs * train.length) / hyper.batchSize));
    const estimate = estimateFineTune(baseFile.weights.config, lora, {
      steps: totalSteps,
      batchSize: hyper.batchSize,
      seqLen,
    });
    checkFits(estimate, { maxSeconds: deps.maxSeconds });
    const schedule = {
      warmupSteps: Math.round(totalSteps * hyper.warmupFraction),
      totalSteps,
      minLrRatio: hyper.minLrRatio,
    };
    const optimizer = {
      ...defaultAdamW,
      lr: hyper.learningRate,
      weightDecay: hyper.weightDecay,
      clipNorm: hyper.clipNorm,
    };
    const dataNet = { id: dataNetId.toString(), version: req.dataNetVersion, root: info.root };
    const configHash = hashObject({ base: baseHash.sha256, dataNet, hyper, seqLen, lora });

    // Resume from the last checkpoint of an interrupted attempt.
    const last = readStored(resumePoint, ctx.job.progress ?? null, `The progress of fine-tune job ${ctx.job.id}`);
    let resume: TrainState<LoraWeights> | undefined;
    let lossFirst: number | undefined;
    if (last?.checkpointCid) {
      const bytes = await deps.blobs.get(last.checkpointCid);
      if (bytes) {
        const decoded = decodeLoraCheckpoint(bytes, baseFile.weights.config.nLayers);
        resume = decoded.state;
        const stored = decoded.extra.lossFirst; // written with the checkpoint below
        lossFirst = typeof stored === 'number' ? stored : undefined;
      }
    }
    await ctx.progress({
      phase: 'preparing',
      step: resume?.step ?? 0,
      totalSteps,
      estimate,
      ...(lossFirst !== undefined ? { lossFirst } : {}),
    } satisfies FineTuneProgress);

    const engine = await deps.engine();
    const trainer = engine.loraTrainer({
      base: baseFile.weights,
      lora,
      seed: hyper.seed,
      optimizer,
      schedule,
      ...(resume ? { resume } : {}),
    });
    let step = resume?.step ?? 0;
    // The resume point: every later progress record keeps it, so a crash during evaluation does not retrain.
    let checkpointCid = last?.checkpointCid;
    let result: StepResult | undefined;
    let trainedTokens = 0;
    const trainStarted = Date.now();
    try {
      while (step < totalSteps) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        const { batch } = batchAt(train, step, hyper.batchSize, seqLen, hyper.seed, tokenizer.vocab.eosId);
        result = await trainer.step(batch);
        step++;
        trainedTokens += batch.batchSize * batch.seqLen;
        lossFirst ??= result.loss;
        if (step % hyper.checkpointEvery === 0 || step === totalSteps) {
          checkpointCid = await deps.blobs.put(encodeLoraCheckpoint(await trainer.state(), { lossFirst }));
          const tps = trainedTokens / ((Date.now() - trainStarted) / 1000);
          await ctx.progress({
            phase: 'training',
            step,
            totalSteps,
            loss: result.loss,
            lossFirst,
            tokensPerSec: Math.round(tps),
            etaSeconds: Math.round(((totalSteps - step) * hyper.batchSize * seqLen) / tps),
            checkpointCid,
          } satisfies FineTuneProgress);
        }
      }
      const adapterWeights = await trainer.adapter();
      const adapterBytes = adapterToGguf(adapterWeights, { name: req.name });
      const adapter = artifactHash(adapterBytes);
      await deps.blobs.put(adapterBytes);
      // Proof of Attribution's gradient method: the training examples' projected gradients, stored with the model.
      const gradients = await buildGradientIndex({
        model: { base: baseFile.weights, adapter: adapterWeights, tokenizer: gradientTokenizerId(baseFile.vocab) },
        examples: train.map((e) => ({
          id: e.contributionId,
          contributor: e.contributor,
          tokens: e.tokens,
          weights: e.weights,
        })),
        seed: hyper.seed,
      });
      const gradientIndex = {
        cid: await deps.blobs.put(encodeGradientIndex(gradients)),
        examples: gradients.examples.length,
        projectionDim: gradients.projection.dim,
      };
      await ctx.progress({
        phase: 'evaluating',
        step,
        totalSteps,
        lossFirst: lossFirst ?? 0,
        ...(result ? { loss: result.loss } : {}),
        ...(checkpointCid ? { checkpointCid } : {}),
      } satisfies FineTuneProgress);

      // Evaluation: held-out loss through our engine, exact match and parity through llama.cpp.
      const model = engine.model(baseFile.weights);
      let evalLoss: number | null = null;
      if (evaluation.length > 0) {
        let sum = 0;
        for (let i = 0; i < evaluation.length; i += hyper.batchSize) {
          const members = evaluation.slice(i, i + hyper.batchSize);
          sum += (await model.loss(toBatch(members, seqLen, tokenizer.vocab.eosId), adapterWeights)) * members.length;
        }
        evalLoss = sum / evaluation.length;
      }
      const dir = mkdtempSync(join(tmpdir(), 'tributary-adapter-'));
      const adapterPath = join(dir, 'adapter.gguf');
      writeFileSync(adapterPath, adapterBytes);
      const runtime = await createLlamaRuntime({ modelPath: base.path, threads: deps.threads });
      let parityMaxAbsDiff = 0;
      let exactMatch: number | null = null;
      let trainExactMatch: number | null = null;
      try {
        const probe = (evaluation[0] ?? at(train, 0)).tokens.slice(0, seqLen);
        const [ours, theirs] = [
          await model.logits(probe, adapterWeights),
          await runtime.logits(probe, [{ path: adapterPath }]),
        ];
        for (const [i, logit] of ours.entries())
          parityMaxAbsDiff = Math.max(parityMaxAbsDiff, Math.abs(logit - at(theirs, i)));
        const matchRate = async (set: TrainingExample[]) => {
          const qa = set.filter((e): e is SftExample => e.kind === 'sft').slice(0, 16);
          if (qa.length === 0) return null;
          let hits = 0;
          for (const e of qa) {
            const g = await runtime.generate({
              prompt: formatInstruction(e.prompt),
              maxTokens: 40,
              adapters: [{ path: adapterPath }],
            });
            if (normalizeAnswer(g.text) === normalizeAnswer(e.response)) hits++;
          }
          return hits / qa.length;
        };
        exactMatch = await matchRate(evaluation);
        trainExactMatch = await matchRate(train);
      } finally {
        model.dispose();
        await runtime.dispose();
        rmSync(dir, { recursive: true, force: true });
      }

      const metrics: FineTuneMetrics = {
        steps: totalSteps,
        trainExamples: train.length,
        evalExamples: evaluation.length,
        lossFirst: lossFirst ?? 0,
        lossLast: result?.loss ?? lossFirst ?? 0,
        evalLoss,
        perplexity: evalLoss === null ? null : Math.exp(evalLoss),
        exactMatch,
        trainExactMatch,
        parityMaxAbsDiff,
        tokensPerSec: Math.round(trainedTokens / Math.max(0.001, (Date.now() - trainStarted) / 1000)),
        seconds: Math.round((Date.now() - started) / 100) / 10,
      };
      const receipt: TrainingReceipt = {
        kind: 'tributary.training-receipt',
        version: 1,
        name: req.name,
        baseModel: { name: base.name, sha256: baseHash.sha256, cid: baseHash.cid },
        dataNet: { ...dataNet, manifestCid: info.manifestCid },
        config: { hyper, lora, seqLen, totalSteps, optimizer, schedule },
        configHash,
        seed: hyper.seed,
        adapter,
        gradientIndex,
        metrics,
        examples: examples.map((e) => ({
          contributionId: e.contributionId,
          contributor: e.contributor,
          split: evaluation.includes(e) ? 'eval' : 'train',
        })),
        libraries: {
          ...engineLibraryVersions(),
          tributary: tributaryVersion,
          engine: engine.library,
          threads: engine.threads,
        },
      };
      const receiptCid = await deps.blobs.put(canonicalJson(receipt));
      deps.log.info({ jobId: ctx.job.id.toString(), adapter: adapter.sha256, receiptCid }, 'fine-tune finished');
      return {
        name: req.name,
        baseModel: { name: base.name, sha256: baseHash.sha256, cid: baseHash.cid },
        dataNet,
        adapter,
        configHash,
        receiptCid,
        metrics,
      };
    } finally {
      trainer.dispose();
    }
  };
}
