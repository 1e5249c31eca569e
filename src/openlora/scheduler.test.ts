import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import type { AdapterCache, AdapterLease } from './adapters.js';
import { createScheduler } from './scheduler.js';

/** A cache whose contexts do nothing: the scheduler's decisions are what is tested. */
function fakeCache(): AdapterCache {
  return {
    acquire: async () => ({ ctx: {} as AdapterLease['ctx'], cold: false, loadMs: 0, release: () => {} }),
  } as unknown as AdapterCache;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler', () => {
  it('serves adapters in turn, so a busy adapter does not starve a quiet one', async () => {
    const s = createScheduler({
      cache: fakeCache(),
      maxActive: 1,
      perAdapter: 1,
      maxQueue: 100,
      defaultTimeoutMs: 10_000,
    });
    const order: string[] = [];
    const job = (key: string, n: number) =>
      s.submit(key, async () => {
        order.push(`${key}${n}`);
        await sleep(2);
      });
    const all = [...[1, 2, 3, 4].map((n) => job('a', n)), job('b', 1), job('c', 1)];
    await Promise.all(all);
    expect(order).toEqual(['a1', 'b1', 'c1', 'a2', 'a3', 'a4']);
  });

  it('bounds active sequences overall and per adapter', async () => {
    const s = createScheduler({
      cache: fakeCache(),
      maxActive: 3,
      perAdapter: 2,
      maxQueue: 100,
      defaultTimeoutMs: 10_000,
    });
    let now = 0;
    let peak = 0;
    const perKey = new Map<string, number>();
    let peakPerKey = 0;
    const job = (key: string) =>
      s.submit(key, async () => {
        now++;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        peak = Math.max(peak, now);
        peakPerKey = Math.max(peakPerKey, perKey.get(key) ?? 0);
        await sleep(5);
        now--;
        perKey.set(key, (perKey.get(key) ?? 1) - 1);
      });
    await Promise.all([...Array(6)].map(() => job('a')).concat([...Array(3)].map(() => job('b'))));
    expect(peak).toBe(3);
    expect(peakPerKey).toBe(2);
  });

  it('refuses requests beyond the queue with a retry delay', async () => {
    const s = createScheduler({
      cache: fakeCache(),
      maxActive: 1,
      perAdapter: 1,
      maxQueue: 2,
      defaultTimeoutMs: 10_000,
    });
    const running = s.submit('a', () => sleep(30));
    const queued = [s.submit('a', () => sleep(1)), s.submit('b', () => sleep(1))];
    const e = await rejectionOf(s.submit('c', () => sleep(1)));
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.message).toMatch(/^The serving queue is full \(2 waiting\); retry in \d+ s$/);
    expect(e.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await Promise.all([running, ...queued]);
    expect(s.queueDepth()).toBe(0);
  });

  it('drops a queued request that times out or whose client leaves, and aborts a running one', async () => {
    const s = createScheduler({
      cache: fakeCache(),
      maxActive: 1,
      perAdapter: 1,
      maxQueue: 10,
      defaultTimeoutMs: 10_000,
    });
    let ran = 0;
    const blocker = s.submit('a', () => sleep(60));
    const timedOut = s.submit('a', async () => void ran++, { timeoutMs: 10 });
    const client = new AbortController();
    const left = s
      .submit('b', async () => void ran++, { signal: client.signal })
      .then(
        () => 'ran',
        (e: Error) => e.message,
      );
    client.abort(new Error('gone'));
    expect((await rejectionOf(timedOut)).code).toBe('TIMEOUT');
    expect(await left).toBe('gone');
    await blocker;
    expect(ran).toBe(0);
    expect(s.queueDepth()).toBe(0);
    const slow = s.submit(
      'a',
      async (_lease, signal) => {
        while (!signal.aborted) await sleep(2);
        return 'partial';
      },
      { timeoutMs: 20 },
    );
    expect((await rejectionOf(slow)).message).toBe('The request did not finish within 20 ms');
  });
});
