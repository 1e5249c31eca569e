/**
 * The fine-tune job. Deterministic end to end: the same request (base, DataNet version, hyperparameters, seed)
 * gives the same adapter bytes, and a job interrupted at any point resumes from its last checkpoint and ends with
 * the same adapter hash as an uninterrupted run.
 */
import { readFileSync } from 'node:fs';
import type { Hex } from 'viem';
import type { z } from 'zod';
import { buildGradientIndex, encodeGradientIndex, gradientTokenizerId } from '../attribution/index.js';
import { BaseError, canonicalJson, type Logger, version as tributaryVersion } from '../core/index.js';
import type { DataNetService } from '../datanets/index.js';
import {
  adapterToGguf,
  artifactHash,
  baseModelFromGguf,
  bundledBaseModel,
  createTokenizer,
  decodeLoraCheckpoint,
  encodeLoraCheckpoint,
  engineLibraryVersions,
  type LoraConfig,
  type LoraWeights,
  type StepResult,
  type Tokenizer,
  type TrainingEngine,
  type TrainState,
} from '../engine/index.js';
import { factoryApi, type VersionExportRow } from '../protocol/index.js';
import type { BlobStore, JobContext } from '../store/index.js';
import type { BaseModelRegistry } from './bases.js';
import { type Bucket, bucketBatchAt, bucketOf, groundedExamples, type TrainingExample } from './dataset.js';
import { evaluateAdapter } from './finetune-evaluate.js';
import {
  configHashOf,
  type DataNetRef,
  evaluatingProgress,
  fineTuneMetrics,
  loraSetup,
  preparingProgress,
  requirePublished,
  resumeFrom,
  type TrainingSchedule,
  trainingExamples,
  trainingProgress,
  trainingReceipt,
  trainingSchedule,
  versionRows,
} from './finetune-stages.js';
import type { FineTuneRequest, Hyper } from './request.js';

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
  bases: BaseModelRegistry;
  datanets: DataNetService;
  engine(): Promise<TrainingEngine>;
  log: Logger;
  /** Longest fine-tune this node accepts, in estimated seconds. */
  maxSeconds: number;
  threads: number;
}

/** Loads the base model a request names (by name, sha-256 or CID; the bundled one by default). */
async function loadBase(
  deps: FineTuneDeps,
  ref: string | undefined,
): Promise<{ name: string; bytes: Uint8Array; path: string }> {
  const info = await deps.bases.resolve(ref);
  if (info.bundled) {
    return { name: info.name, bytes: new Uint8Array(readFileSync(bundledBaseModel.path)), path: bundledBaseModel.path };
  }
  const bytes = await deps.blobs.get(info.cid);
  const path = deps.blobs.localPath?.(info.cid);
  if (!bytes || !path) {
    throw new BaseError('NOT_FOUND', `Base model "${info.name}" (${info.cid}) is missing from this node's blob store`, {
      details: { field: 'baseModel', cid: info.cid },
    });
  }
  return { name: info.name, bytes, path };
}

/** A published DataNet version's lineage and rows. */
interface VersionData {
  dataNet: DataNetRef;
  manifestCid: string;
  rows: VersionExportRow[];
}

/** Stage 1: the data, a published DataNet version's export. */
async function loadVersion(datanets: DataNetService, dataNetId: bigint, version: number): Promise<VersionData> {
  const info = await datanets.getVersion(dataNetId, version);
  requirePublished(info, dataNetId, version);
  let jsonl = '';
  for await (const line of datanets.exportVersion(dataNetId, version)) jsonl += line;
  const rows = versionRows(jsonl, dataNetId, version);
  return { dataNet: { id: dataNetId.toString(), version, root: info.root }, manifestCid: info.manifestCid, rows };
}

/** Everything a run trains on and with, fixed before the first step. */
interface FineTunePlan extends TrainingSchedule {
  hyper: Hyper;
  base: { name: string; path: string; hash: ReturnType<typeof artifactHash> };
  baseFile: ReturnType<typeof baseModelFromGguf>;
  tokenizer: Tokenizer;
  seqLen: number;
  lora: LoraConfig;
  examples: TrainingExample[];
  train: TrainingExample[];
  evaluation: TrainingExample[];
  /** What the steps train on: the training split and, with `grounded`, the grounded prompts, each at its own length. */
  buckets: Bucket[];
  configHash: Hex;
}

/** Stage 2: the base model, its tokenizer, the examples and their split, the schedule (if it fits), the config hash. */
function planFineTune(
  hyper: Hyper,
  data: VersionData,
  base: { name: string; bytes: Uint8Array; path: string },
  maxSeconds: number,
): FineTunePlan {
  const hash = artifactHash(base.bytes);
  const baseFile = baseModelFromGguf(base.bytes);
  const tokenizer = createTokenizer(baseFile.vocab);
  const { seqLen, lora } = loraSetup(hyper, baseFile.weights.config.contextLength);
  const { examples, train, evaluation } = trainingExamples(data.rows, tokenizer, seqLen, hyper);
  const contextLength = baseFile.weights.config.contextLength;
  const trained = new Set(train.map((e) => e.contributionId));
  const grounded = hyper.grounded
    ? groundedExamples(
        data.rows.filter((r) => trained.has(r.id)),
        tokenizer,
        contextLength + 1,
        hyper.seed,
      )
    : [];
  const buckets = [bucketOf(train, seqLen), ...(grounded.length > 0 ? [bucketOf(grounded, contextLength)] : [])];
  const schedule = trainingSchedule(hyper, buckets, baseFile.weights.config, lora, { maxSeconds });
  return {
    ...schedule,
    hyper,
    base: { name: base.name, path: base.path, hash },
    baseFile,
    tokenizer,
    seqLen,
    lora,
    examples,
    train,
    evaluation,
    buckets,
    configHash: configHashOf(hash.sha256, data.dataNet, hyper, seqLen, lora),
  };
}

/** Where a run starts: the last checkpoint of an interrupted attempt, if it is still in the blob store. */
interface StartPoint {
  resume?: TrainState<LoraWeights>;
  lossFirst?: number;
  /** The resume point: every later progress record keeps it, so a crash during evaluation does not retrain. */
  checkpointCid: string | undefined;
}

/** Stage 3: the resume point of an interrupted attempt, from the job's last progress. */
async function readStartPoint(
  blobs: BlobStore,
  job: JobContext<FineTuneRequest>['job'],
  nLayers: number,
): Promise<StartPoint> {
  const last = readStored(resumePoint, job.progress ?? null, `The progress of fine-tune job ${job.id}`);
  const bytes = last?.checkpointCid ? await blobs.get(last.checkpointCid) : undefined;
  return {
    ...resumeFrom(bytes ? decodeLoraCheckpoint(bytes, nLayers) : undefined),
    checkpointCid: last?.checkpointCid,
  };
}

interface Trained {
  step: number;
  result: StepResult | undefined;
  lossFirst: number | undefined;
  trainedTokens: number;
  trainStarted: number;
  checkpointCid: string | undefined;
}

/** Stage 4: the training steps from the start point, a checkpoint (and progress record) every checkpointEvery. */
async function trainSteps(
  ctx: JobContext<FineTuneRequest>,
  blobs: BlobStore,
  trainer: ReturnType<TrainingEngine['loraTrainer']>,
  plan: FineTunePlan,
  start: StartPoint,
): Promise<Trained> {
  const { hyper, seqLen, totalSteps, buckets, tokenizer } = plan;
  let step = start.resume?.step ?? 0;
  let { lossFirst, checkpointCid } = start;
  let result: StepResult | undefined;
  let trainedTokens = 0;
  const trainStarted = Date.now();
  while (step < totalSteps) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const { batch } = bucketBatchAt(buckets, step, hyper.batchSize, hyper.seed, tokenizer.vocab.eosId);
    const stepped = await trainer.step(batch);
    result = stepped;
    step++;
    trainedTokens += batch.batchSize * batch.seqLen;
    lossFirst ??= stepped.loss;
    if (step % hyper.checkpointEvery === 0 || step === totalSteps) {
      checkpointCid = await blobs.put(encodeLoraCheckpoint(await trainer.state(), { lossFirst }));
      await ctx.progress(
        trainingProgress({
          step,
          totalSteps,
          loss: stepped.loss,
          lossFirst,
          trainedTokens,
          elapsedMs: Date.now() - trainStarted,
          batchSize: hyper.batchSize,
          seqLen,
          checkpointCid,
        }),
      );
    }
  }
  return { step, result, lossFirst, trainedTokens, trainStarted, checkpointCid };
}

interface Artifacts {
  adapterWeights: LoraWeights;
  adapterBytes: Uint8Array;
  adapter: ReturnType<typeof artifactHash>;
  gradientIndex: { cid: string; examples: number; projectionDim: number };
}

/**
 * Stage 5: the adapter (GGUF) and, for Proof of Attribution's gradient method, the training examples' projected
 * gradients, both into the blob store.
 */
async function writeArtifacts(
  blobs: BlobStore,
  name: string,
  trainer: ReturnType<TrainingEngine['loraTrainer']>,
  plan: FineTunePlan,
): Promise<Artifacts> {
  const adapterWeights = await trainer.adapter();
  const adapterBytes = adapterToGguf(adapterWeights, { name, base: plan.baseFile.weights.config });
  const adapter = artifactHash(adapterBytes);
  await blobs.put(adapterBytes);
  const gradients = await buildGradientIndex({
    model: {
      base: plan.baseFile.weights,
      adapter: adapterWeights,
      tokenizer: gradientTokenizerId(plan.baseFile.vocab),
    },
    examples: plan.train.map((e) => ({
      id: e.contributionId,
      contributor: e.contributor,
      tokens: e.tokens,
      weights: e.weights,
    })),
    seed: plan.hyper.seed,
  });
  const gradientIndex = {
    cid: await blobs.put(encodeGradientIndex(gradients)),
    examples: gradients.examples.length,
    projectionDim: gradients.projection.dim,
  };
  return { adapterWeights, adapterBytes, adapter, gradientIndex };
}

export function fineTuneHandler(deps: FineTuneDeps) {
  return async (ctx: JobContext<FineTuneRequest>): Promise<FineTuneResult> => {
    const started = Date.now();
    const req = ctx.job.payload;
    const data = await loadVersion(deps.datanets, BigInt(req.dataNetId), req.dataNetVersion);
    const base = await loadBase(deps, req.baseModel);
    const plan = planFineTune(req.hyper, data, base, deps.maxSeconds);
    const start = await readStartPoint(deps.blobs, ctx.job, plan.baseFile.weights.config.nLayers);
    await ctx.progress(preparingProgress(start.resume?.step ?? 0, plan.totalSteps, plan.estimate, start.lossFirst));

    const engine = await deps.engine();
    const trainer = engine.loraTrainer({
      base: plan.baseFile.weights,
      lora: plan.lora,
      seed: plan.hyper.seed,
      optimizer: plan.optimizer,
      schedule: plan.schedule,
      ...(start.resume ? { resume: start.resume } : {}),
    });
    try {
      const trained = await trainSteps(ctx, deps.blobs, trainer, plan, start);
      const artifacts = await writeArtifacts(deps.blobs, req.name, trainer, plan);
      await ctx.progress(
        evaluatingProgress({
          step: trained.step,
          totalSteps: plan.totalSteps,
          lossFirst: trained.lossFirst,
          loss: trained.result?.loss,
          checkpointCid: trained.checkpointCid,
        }),
      );
      const evaluation = await evaluateAdapter(
        engine,
        {
          base: { weights: plan.baseFile.weights, path: plan.base.path },
          adapter: { weights: artifacts.adapterWeights, bytes: artifacts.adapterBytes },
          evaluation: plan.evaluation,
          train: plan.train,
          batchSize: plan.hyper.batchSize,
          seqLen: plan.seqLen,
          eosId: plan.tokenizer.vocab.eosId,
        },
        deps.threads,
      );
      const metrics = fineTuneMetrics({
        totalSteps: plan.totalSteps,
        trainExamples: plan.train.length,
        evalExamples: plan.evaluation.length,
        lossFirst: trained.lossFirst,
        lossLast: trained.result?.loss,
        evaluation,
        trainedTokens: trained.trainedTokens,
        trainMs: Date.now() - trained.trainStarted,
        totalMs: Date.now() - started,
      });
      const baseModel = { name: plan.base.name, sha256: plan.base.hash.sha256, cid: plan.base.hash.cid };
      const { hyper, lora, seqLen, totalSteps, optimizer, schedule, configHash } = plan;
      const receipt = trainingReceipt({
        name: req.name,
        baseModel,
        dataNet: { ...data.dataNet, manifestCid: data.manifestCid },
        config: { hyper, lora, seqLen, totalSteps, optimizer, schedule },
        configHash,
        seed: hyper.seed,
        adapter: artifacts.adapter,
        gradientIndex: artifacts.gradientIndex,
        metrics,
        examples: plan.examples,
        evaluation: plan.evaluation,
        libraries: {
          ...engineLibraryVersions(),
          tributary: tributaryVersion,
          engine: engine.library,
          threads: engine.threads,
        },
      });
      const receiptCid = await deps.blobs.put(canonicalJson(receipt));
      deps.log.info(
        { jobId: ctx.job.id.toString(), adapter: artifacts.adapter.sha256, receiptCid },
        'fine-tune finished',
      );
      return {
        name: req.name,
        baseModel,
        dataNet: data.dataNet,
        adapter: artifacts.adapter,
        configHash,
        receiptCid,
        metrics,
        heldOut: plan.evaluation.map((e) => e.contributionId),
      };
    } finally {
      trainer.dispose();
    }
  };
}
