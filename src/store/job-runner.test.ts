import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeBackends } from '../../test/fixtures/db.js';
import { BaseError } from '../core/index.js';
import type { Db } from './db.js';
import { createJobRunner, type JobEvent } from './job-runner.js';
import { createJobQueue } from './jobs.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met');
};

describe.each(storeBackends())('job runner on $name', (backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await backend.open();
    await migrate(db, migrations);
  });
  afterEach(async () => {
    await db.close();
  });

  it('runs jobs, reports progress, fails bad input for good and retries the rest', async () => {
    const queue = createJobQueue(db, { owner: 'n1' });
    const events: JobEvent[] = [];
    const runner = createJobRunner({
      queue,
      pollMs: 10,
      handlers: {
        square: async ({ job, progress }) => {
          const { x } = job.payload as { x: number };
          await progress({ step: 1 });
          if (x < 0) throw new BaseError('INVALID_ARGUMENT', 'x must not be negative');
          if (x === 13) throw new Error('unlucky, try again');
          if (x === 7) throw new BaseError('CHAIN_UNAVAILABLE', 'chain down, try again');
          if (x === 8) throw new BaseError('CONTRACT_REVERTED', 'reverted: retrying will not help');
          return { y: x * x };
        },
      },
    });
    runner.events.on('event', (e: JobEvent) => events.push(e));
    const ok = await queue.enqueue('square', { x: 3 });
    const bad = await queue.enqueue('square', { x: -1 });
    const flaky = await queue.enqueue('square', { x: 13 }, { maxAttempts: 2 });
    const down = await queue.enqueue('square', { x: 7 }, { maxAttempts: 2 });
    const reverted = await queue.enqueue('square', { x: 8 }, { maxAttempts: 2 });
    await runner.start();
    await until(
      async () =>
        (await queue.get(ok.id)).status === 'succeeded' &&
        (await queue.get(bad.id)).status === 'failed' &&
        (await queue.get(reverted.id)).status === 'failed',
    );
    // The runner emits 'retrying' right after it re-queues the job: wait for both, not only the row.
    await until(
      async () =>
        (await queue.get(flaky.id)).status === 'queued' &&
        (await queue.get(down.id)).status === 'queued' &&
        [flaky, down].every((j) => events.some((e) => e.jobId === j.id.toString() && e.type === 'retrying')),
    );
    await runner.stop();
    expect((await queue.get(ok.id)).result).toEqual({ y: 9 });
    expect((await queue.get(bad.id)).error).toEqual({ message: 'x must not be negative', code: 'INVALID_ARGUMENT' });
    expect(events.filter((e) => e.jobId === ok.id.toString()).map((e) => e.type)).toEqual([
      'started',
      'progress',
      'succeeded',
    ]);
    expect(events.find((e) => e.jobId === flaky.id.toString() && e.type === 'retrying')).toBeDefined();
    // Retrying is the error table's call: a revert is final on its first attempt, an unreachable chain is not.
    expect(await queue.get(reverted.id)).toMatchObject({ attempts: 1, error: { code: 'CONTRACT_REVERTED' } });
  });

  it('leaves a job interrupted by a stop to be resumed by the next start, and honours cancellation', async () => {
    const queue = createJobQueue(db, { owner: 'n1' });
    let runs = 0;
    const slow = async ({ signal, progress }: { signal: AbortSignal; progress(d: unknown): Promise<void> }) => {
      runs++;
      for (let i = 0; i < 200; i++) {
        if (signal.aborted) throw signal.reason;
        await progress({ i });
        await new Promise((r) => setTimeout(r, 10));
      }
      return 'done';
    };
    const first = createJobRunner({ queue, pollMs: 10, handlers: { slow } });
    const job = await queue.enqueue('slow', {});
    await first.start();
    await until(async () => ((await queue.get(job.id)).progress as { i?: number } | null)?.i !== undefined);
    await first.stop();
    expect((await queue.get(job.id)).status).toBe('running');
    const second = createJobRunner({ queue: createJobQueue(db, { owner: 'n1' }), pollMs: 10, handlers: { slow } });
    await second.start();
    await until(async () => runs === 2);
    await queue.cancel(job.id);
    await until(async () => (await queue.get(job.id)).status === 'cancelled');
    await second.stop();
    expect((await queue.get(job.id)).status).toBe('cancelled');
  });
});
