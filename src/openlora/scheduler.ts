/**
 * Who generates next. Requests wait in one queue per adapter; the scheduler serves the adapters in turn
 * (round-robin), so a busy adapter cannot starve a quiet one, while requests for the same adapter run together
 * as parallel sequences of its context. The total number of sequences generating at once is bounded (the CPU is),
 * and so is the queue: beyond it a request is refused at once with a retry delay instead of waiting forever.
 * A request leaves the queue when its client disconnects or its time runs out.
 */
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { AdapterCache, AdapterLease } from './adapters.js';

export interface SchedulerOptions {
  cache: AdapterCache;
  /** Sequences generating at once across all adapters. */
  maxActive: number;
  /** Sequences of one adapter generating at once (its context's sequences). */
  perAdapter: number;
  /** Requests waiting at once; more are refused with RATE_LIMITED. */
  maxQueue: number;
  defaultTimeoutMs: number;
  log?: Logger;
}

interface Ticket {
  key: string;
  /** Runs the request with its lease and settles the caller's promise with the result. */
  execute(lease: AdapterLease, startedAt: number): Promise<void>;
  reject(e: unknown): void;
  cleanup(): void;
}

export interface RunInfo {
  /** Milliseconds spent waiting in the queue. */
  queueMs: number;
  lease: AdapterLease;
}

export function createScheduler(o: SchedulerOptions) {
  const log = o.log ?? silentLogger();
  const queues = new Map<string, Ticket[]>();
  const inflight = new Map<string, number>();
  // When each adapter was last given a turn: the next turn goes to the one that waited longest.
  const lastServed = new Map<string, number>();
  let turn = 0;
  let active = 0;
  let waiting = 0;
  const durations: number[] = [];

  function pump(): void {
    while (active < o.maxActive) {
      let next: { key: string; queue: Ticket[] } | undefined;
      for (const [k, q] of queues) {
        if (q.length === 0 || (inflight.get(k) ?? 0) >= o.perAdapter) continue;
        if (next === undefined || (lastServed.get(k) ?? -1) < (lastServed.get(next.key) ?? -1))
          next = { key: k, queue: q };
      }
      const picked = next?.queue.shift();
      if (!next || !picked) return;
      if (next.queue.length === 0) queues.delete(next.key);
      lastServed.set(next.key, turn++);
      waiting--;
      void start(picked);
    }
  }

  async function start(t: Ticket): Promise<void> {
    active++;
    inflight.set(t.key, (inflight.get(t.key) ?? 0) + 1);
    const startedAt = performance.now();
    let lease: AdapterLease | undefined;
    try {
      lease = await o.cache.acquire(t.key);
      await t.execute(lease, startedAt);
    } catch (e) {
      t.reject(e);
    } finally {
      lease?.release();
      t.cleanup();
      active--;
      const left = (inflight.get(t.key) ?? 1) - 1;
      if (left > 0) inflight.set(t.key, left);
      else inflight.delete(t.key);
      durations.push(performance.now() - startedAt);
      if (durations.length > 100) durations.shift();
      pump();
    }
  }

  /** Seconds a refused client should wait: the queue drained at the recent pace. */
  function retryAfter(): number {
    const avg = durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : 1000;
    return Math.max(1, Math.ceil((waiting * avg) / o.maxActive / 1000));
  }

  return {
    /**
     * Runs `run` with a context of `key`'s adapter when its turn comes. The signal given to `run` aborts on
     * client disconnect or timeout; the returned promise then rejects (TIMEOUT, or the client's abort reason).
     */
    submit<T>(
      key: string,
      run: (lease: AdapterLease, signal: AbortSignal) => Promise<T>,
      opts: { signal?: AbortSignal; timeoutMs?: number } = {},
    ): Promise<{ result: T; info: RunInfo }> {
      if (waiting >= o.maxQueue) {
        const seconds = retryAfter();
        return Promise.reject(
          new BaseError('RATE_LIMITED', `The serving queue is full (${o.maxQueue} waiting); retry in ${seconds} s`, {
            details: { retryAfterSeconds: seconds, queue: waiting },
          }),
        );
      }
      return new Promise((resolve, reject) => {
        const controller = new AbortController();
        const timeoutMs = opts.timeoutMs ?? o.defaultTimeoutMs;
        const timer = setTimeout(
          () =>
            controller.abort(
              new BaseError('TIMEOUT', `The request did not finish within ${timeoutMs} ms`, { details: { timeoutMs } }),
            ),
          timeoutMs,
        );
        const onClientAbort = () =>
          controller.abort(opts.signal?.reason ?? new BaseError('CONFLICT', 'The client disconnected'));
        opts.signal?.addEventListener('abort', onClientAbort, { once: true });
        const enqueuedAt = performance.now();
        const ticket: Ticket = {
          key,
          async execute(lease, startedAt) {
            const result = await run(lease, controller.signal);
            // Generation stops early on abort; the request then failed (timeout) or nobody is listening (disconnect).
            if (controller.signal.aborted) reject(controller.signal.reason);
            else resolve({ result, info: { queueMs: startedAt - enqueuedAt, lease } });
          },
          reject,
          cleanup: () => {
            clearTimeout(timer);
            opts.signal?.removeEventListener('abort', onClientAbort);
          },
        };
        // Leaving the queue early: a disconnected or timed-out request never starts.
        controller.signal.addEventListener(
          'abort',
          () => {
            const q = queues.get(key);
            const i = q?.indexOf(ticket) ?? -1;
            if (q && i >= 0) {
              q.splice(i, 1);
              waiting--;
              if (q.length === 0) queues.delete(key);
              ticket.cleanup();
              reject(controller.signal.reason);
              log.debug({ key }, 'request left the queue');
            }
          },
          { once: true },
        );
        const q = queues.get(key);
        if (q) q.push(ticket);
        else queues.set(key, [ticket]);
        waiting++;
        pump();
      });
    },
    queueDepth: () => waiting,
    active: () => active,
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
