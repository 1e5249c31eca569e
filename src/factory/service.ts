/**
 * ModelFactory: fine-tunes as durable jobs. The node's job runner executes them (one at a time; the work is
 * CPU-bound); a restart resumes an interrupted fine-tune from its last checkpoint.
 */
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { DataNetService } from '../datanets/index.js';
import type { TrainingEngine } from '../engine/index.js';
import { type FineTuneJob, factoryApi } from '../protocol/index.js';
import type { BlobStore, Db, Job, JobQueue } from '../store/index.js';
import { type BaseModelInfo, createBaseModelRegistry } from './bases.js';
import { checkFits, estimateFineTune } from './estimate.js';
import { fineTuneHandler, readStored } from './finetune.js';
import { type FineTuneRequest, parseFineTuneRequest } from './request.js';

export const FINE_TUNE = 'fine-tune';

export interface FactoryDeps {
  db: Db;
  queue: JobQueue;
  blobs: BlobStore;
  datanets: DataNetService;
  engine(): Promise<TrainingEngine>;
  log?: Logger;
  /** Longest fine-tune accepted, in estimated seconds (default 2 hours). */
  maxSeconds?: number;
  /** llama.cpp threads for evaluation (1 or 2). */
  threads?: number;
}

/** A fine-tune job as the node answers it (declared in src/protocol/http/factory.ts). */
export type JobView = FineTuneJob;

export function jobView(j: Job<FineTuneRequest>): JobView {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    attempts: j.attempts,
    request: j.payload,
    progress: readStored(factoryApi.fineTuneProgress.nullable(), j.progress ?? null, `The progress of job ${j.id}`),
    result: readStored(factoryApi.fineTuneResult.nullable(), j.result ?? null, `The result of job ${j.id}`),
    error: j.error,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  };
}

export function createFactoryService(deps: FactoryDeps) {
  const log = deps.log ?? silentLogger();
  const bases = createBaseModelRegistry({ db: deps.db, blobs: deps.blobs });

  const handler = fineTuneHandler({
    blobs: deps.blobs,
    bases,
    datanets: deps.datanets,
    engine: deps.engine,
    log,
    maxSeconds: deps.maxSeconds ?? 7200,
    threads: deps.threads ?? 1,
  });

  async function job(id: bigint): Promise<JobView> {
    const j = await deps.queue.get<FineTuneRequest>(id);
    if (j.kind !== FINE_TUNE)
      throw new BaseError('NOT_FOUND', `No fine-tune job ${id}`, { details: { jobId: id.toString() } });
    return jobView(j);
  }

  return {
    handlers: { [FINE_TUNE]: handler },

    /**
     * Validates and enqueues a fine-tune. The DataNet version must exist, and a job that would not fit in memory
     * or time is refused now, from the version's row count (the job checks again with the exact split).
     */
    async submit(input: unknown): Promise<JobView> {
      const request = parseFineTuneRequest(input);
      const version = await deps.datanets.getVersion(BigInt(request.dataNetId), request.dataNetVersion);
      const h = request.hyper;
      const base = await bases.resolve(request.baseModel);
      if (!base.fineTune.ok) {
        throw new BaseError(
          'MODEL_UNSUPPORTED',
          `Base model "${base.name}" cannot be fine-tuned on this node: ${base.fineTune.reason ?? 'unsupported'}`,
          { details: { field: 'baseModel', baseModel: base.name } },
        );
      }
      {
        const train = Math.max(1, Math.round(version.count * (1 - h.evalFraction)));
        const steps = h.steps ?? Math.max(1, Math.ceil((h.epochs * train) / h.batchSize));
        const lora = { rank: h.rank, alpha: h.alpha, dropout: h.dropout, targets: h.targets };
        checkFits(
          estimateFineTune(base.config, lora, {
            steps,
            batchSize: h.batchSize,
            seqLen: Math.min(h.seqLen, base.config.contextLength),
          }),
          {
            maxSeconds: deps.maxSeconds ?? 7200,
          },
        );
      }
      return jobView(await deps.queue.enqueue(FINE_TUNE, request, { maxAttempts: 3 }));
    },
    job,
    async list(): Promise<JobView[]> {
      return (await deps.queue.list<FineTuneRequest>({ kind: FINE_TUNE, limit: 100 })).map(jobView);
    },
    async cancel(id: bigint): Promise<JobView> {
      await job(id);
      await deps.queue.cancel(id);
      return job(id);
    },
    /** The base models on this node: the bundled one, then those its operator registered. */
    baseModels: (): Promise<BaseModelInfo[]> => bases.list(),
    /** The bundled base (read once). */
    bundledBase: (): BaseModelInfo => bases.bundled(),
    /** Registers a llama-family GGUF under a name (see bases.ts). */
    addBaseModel: (name: string, bytes: Uint8Array): Promise<BaseModelInfo> => bases.add(name, bytes),
  };
}

export type FactoryService = ReturnType<typeof createFactoryService>;
