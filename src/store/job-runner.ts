/**
 * Runs jobs from the durable queue: one at a time (the work is CPU-bound), renewing the lease while the handler
 * works, turning a lost lease or a cancellation into an aborted signal, and recording success or failure. A
 * handler that throws an error retrying cannot fix (bad input, a revert, a corrupt model: not `retryable` in the
 * error table) fails its job for good; anything else (transient or unexpected) is retried with backoff.
 * Progress is both stored (heartbeat) and emitted to listeners (server-sent events).
 */
import { EventEmitter } from 'node:events';
import { BaseError, isRetryable, type Logger, silentLogger, toBaseError } from '../core/index.js';
import type { Job, JobQueue } from './jobs.js';

export interface JobContext<P> {
  job: Job<P>;
  /** Aborted when the job is cancelled or its lease is lost: stop at the next safe point. */
  signal: AbortSignal;
  /** Records progress (renewing the lease) and tells listeners. */
  progress(data: unknown): Promise<void>;
}

export type JobHandler<P = unknown> = (ctx: JobContext<P>) => Promise<unknown>;

export interface JobEvent {
  jobId: string;
  type: 'started' | 'progress' | 'succeeded' | 'failed' | 'cancelled' | 'retrying';
  data?: unknown;
}

export interface JobRunnerOptions {
  queue: JobQueue;
  handlers: Record<string, JobHandler<never>>;
  pollMs?: number;
  heartbeatMs?: number;
  log?: Logger;
}

export function createJobRunner(options: JobRunnerOptions) {
  const { queue } = options;
  const log = options.log ?? silentLogger();
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const kinds = Object.keys(options.handlers);
  let stopped = true;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let current: AbortController | undefined;

  const emit = (e: JobEvent) => events.emit('event', e);

  /** `job`'s payload is for the handler of its kind alone, which types it (the runner never reads it). */
  async function runOne(job: Job<never>): Promise<void> {
    const controller = new AbortController();
    current = controller;
    const id = job.id.toString();
    emit({ jobId: id, type: 'started', data: { attempt: job.attempts } });
    const beat = setInterval(() => {
      void queue.heartbeat(job.id).then((ours) => {
        if (!ours) controller.abort(new BaseError('CONFLICT', `Job ${id} was cancelled or taken over`));
      });
    }, heartbeatMs);
    try {
      const handler = options.handlers[job.kind];
      if (!handler)
        throw new BaseError('INTERNAL', `No handler for jobs of kind ${job.kind}`, { details: { kind: job.kind } });
      const result = await handler({
        job,
        signal: controller.signal,
        progress: async (data) => {
          const ours = await queue.heartbeat(job.id, data);
          if (!ours) controller.abort(new BaseError('CONFLICT', `Job ${id} was cancelled or taken over`));
          emit({ jobId: id, type: 'progress', data });
        },
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      await queue.complete(job.id, result);
      emit({ jobId: id, type: 'succeeded', data: result });
    } catch (e) {
      const err = toBaseError(e);
      const now = await queue.get(job.id);
      if (stopped || (now.status === 'running' && controller.signal.aborted)) {
        // Interrupted (the node is stopping, or another node took the job over): not a failure. It stays
        // running under its lease, and resumes from its last checkpoint when claimed again.
        log.info({ jobId: id }, 'job interrupted; it will resume');
      } else if (now.status === 'cancelled') {
        emit({ jobId: id, type: 'cancelled' });
      } else {
        const status = await queue.fail(job.id, { message: err.message, code: err.code }, { retry: isRetryable(err) });
        emit({ jobId: id, type: status === 'queued' ? 'retrying' : 'failed', data: err.toJSON() });
        log.warn({ jobId: id, err: err.message, status }, 'job failed');
      }
    } finally {
      clearInterval(beat);
      current = undefined;
    }
  }

  async function run(): Promise<void> {
    while (!stopped) {
      const job = await queue.claim<never>(kinds).catch((e: unknown) => {
        log.warn({ err: e }, 'claiming a job failed');
        return undefined;
      });
      if (job) {
        await runOne(job);
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  return {
    events,
    /** Takes back this node's unfinished jobs (after a restart) and starts working. */
    async start(): Promise<void> {
      if (!stopped) return;
      stopped = false;
      const recovered = await queue.recoverOwn();
      if (recovered > 0) log.info({ recovered }, 'resuming jobs interrupted by a restart');
      loop = run();
    },
    /** Wakes the loop now (a job was just enqueued). */
    poke(): void {
      wake?.();
    },
    /** Stops taking jobs; the running one is aborted and left to be resumed later. */
    async stop(): Promise<void> {
      stopped = true;
      current?.abort(new BaseError('CONFLICT', 'The node is stopping'));
      wake?.();
      await loop;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
