import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeBackends } from '../../test/fixtures/db.js';
import { rejectionOf } from '../../test/fixtures/errors.js';
import type { Db } from './db.js';
import { createJobQueue } from './jobs.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

describe.each(storeBackends())('job queue on $name', (backend) => {
  let db: Db;
  beforeEach(async () => {
    db = await backend.open();
    await migrate(db, migrations);
  });
  afterEach(async () => {
    await db.close();
  });

  it('runs a job from queued to succeeded, with progress', async () => {
    const q = createJobQueue(db, { owner: 'node-a' });
    const job = await q.enqueue('train', { steps: 10 });
    expect(job).toMatchObject({ status: 'queued', attempts: 0, payload: { steps: 10 } });
    expect(await q.claim(['other'])).toBeUndefined();
    const claimed = await q.claim<{ steps: number }>(['train']);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', attempts: 1 });
    expect(await q.claim(['train'])).toBeUndefined();
    expect(await q.heartbeat(job.id, { step: 5 })).toBe(true);
    await q.complete(job.id, { adapter: 'x' });
    expect(await q.get(job.id)).toMatchObject({ status: 'succeeded', progress: { step: 5 }, result: { adapter: 'x' } });
  });

  it('deduplicates enqueues by key', async () => {
    const q = createJobQueue(db, { owner: 'node-a' });
    const a = await q.enqueue('train', { n: 1 }, { dedupeKey: 'k' });
    const b = await q.enqueue('train', { n: 2 }, { dedupeKey: 'k' });
    expect(b.id).toBe(a.id);
    expect(b.payload).toEqual({ n: 1 });
  });

  it('retries a failed attempt after a backoff, then fails for good', async () => {
    const q = createJobQueue(db, { owner: 'node-a' });
    const job = await q.enqueue('train', {}, { maxAttempts: 2 });
    await q.claim(['train']);
    expect(await q.fail(job.id, { message: 'out of memory' })).toBe('queued');
    expect(await q.claim(['train'])).toBeUndefined(); // backing off
    await db.query(`UPDATE jobs SET run_after = now() WHERE id = $1`, [job.id.toString()]);
    expect((await q.claim(['train']))?.attempts).toBe(2);
    expect(await q.fail(job.id, { message: 'out of memory again' })).toBe('failed');
    expect(await q.get(job.id)).toMatchObject({ status: 'failed', error: { message: 'out of memory again' } });
    const once = await q.enqueue('train', {});
    await q.claim(['train']);
    expect(await q.fail(once.id, { message: 'bad input' }, { retry: false })).toBe('failed');
  });

  it('hands a job whose worker died to another worker once its lease runs out', async () => {
    const a = createJobQueue(db, { owner: 'node-a', leaseMs: 50 });
    const b = createJobQueue(db, { owner: 'node-b', leaseMs: 50 });
    const job = await a.enqueue('train', {});
    await a.claim(['train']);
    expect(await b.claim(['train'])).toBeUndefined();
    await new Promise((r) => setTimeout(r, 120));
    expect(await b.claim(['train'])).toMatchObject({ id: job.id, attempts: 2 });
    expect(await a.heartbeat(job.id)).toBe(false); // node-a lost it
  });

  it('gives a restarted node its own running jobs back at once', async () => {
    const before = createJobQueue(db, { owner: 'node-a', leaseMs: 60_000 });
    const job = await before.enqueue('train', {});
    await before.claim(['train']);
    const after = createJobQueue(db, { owner: 'node-a', leaseMs: 60_000 });
    expect(await after.recoverOwn()).toBe(1);
    expect((await after.claim(['train']))?.id).toBe(job.id);
  });

  it('cancels, telling the worker on its next heartbeat', async () => {
    const q = createJobQueue(db, { owner: 'node-a' });
    const job = await q.enqueue('train', {});
    await q.claim(['train']);
    expect((await q.cancel(job.id)).status).toBe('cancelled');
    expect(await q.heartbeat(job.id)).toBe(false);
    expect((await rejectionOf(q.cancel(job.id))).message).toBe(`Job ${job.id} already ended (cancelled)`);
    expect((await rejectionOf(q.get(999n))).code).toBe('NOT_FOUND');
  });

  it('never gives one job to two workers claiming at once', async () => {
    const workers = ['a', 'b', 'c', 'd'].map((owner) => createJobQueue(db, { owner }));
    for (let i = 0; i < 6; i++) await workers[0]?.enqueue('train', { i });
    const claims = await Promise.all(workers.flatMap((w) => [w.claim(['train']), w.claim(['train'])]));
    const ids = claims.filter((j) => j !== undefined).map((j) => j.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });
});
