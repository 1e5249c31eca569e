import { describe, expect, it } from 'vitest';
import { devAccount } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import { createPayingFetch } from './client.js';
import { NO_FEE_CAP, paymentHeaders } from './vouchers.js';

const user = devAccount(11);
const node = devAccount(10).address;
const domain = { chainId: 31337, escrow: '0x610178dA211FEF7D417bC0e6FeD39F05609AD788' as const };

/** A node that answers each request with the payment it claims, recording the headers it was sent. */
function fakeNode(payments: { charged: string; fee: string }[]) {
  const seen: Headers[] = [];
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    seen.push(new Headers(init?.headers));
    const payment = payments.shift();
    return new Response(JSON.stringify({ tributary: { payment } }), {
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch, seen };
}

const ask = (f: typeof fetch) =>
  f('http://node/v1/completions', { method: 'POST', body: JSON.stringify({ model: 'm', prompt: 'q', max_tokens: 4 }) });

describe('paying fetch', () => {
  it('authorizes every request with a fresh nonce and vouches for exactly the charges it made', async () => {
    const n = fakeNode([
      { charged: '100', fee: '100' },
      { charged: '250', fee: '150' },
    ]);
    const paying = createPayingFetch({ user, channelId: 1n, node, domain, fetch: n.fetch });
    await ask(paying.fetch);
    await ask(paying.fetch);
    expect(n.seen.map((h) => h.get(paymentHeaders.authorization)?.split(':')[0])).toEqual(['1', '2']);
    expect(n.seen[0]?.get(paymentHeaders.voucher)).toBeNull();
    expect(n.seen[1]?.get(paymentHeaders.voucher)?.split(':')[0]).toBe('100');
    expect(paying.charged()).toBe(250n);
  });

  it('attack: a node that reports charges the client did not make gets no voucher for them (CONFLICT)', async () => {
    const n = fakeNode([
      { charged: '100', fee: '100' },
      { charged: '400', fee: '150' }, // someone else's 150 slipped in
    ]);
    const paying = createPayingFetch({ user, channelId: 1n, node, domain, fetch: n.fetch });
    await ask(paying.fetch);
    await ask(paying.fetch);
    expect(paying.charged()).toBe(100n);
    const e = await ask(paying.fetch).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(BaseError);
    expect((e as BaseError).code).toBe('CONFLICT');
    expect((e as BaseError).message).toBe(
      `The node reports 400 wei charged on channel 1 after request (unknown), but you owed 100 before it and it cost 150 (cap ${NO_FEE_CAP}): no voucher signed`,
    );
    await expect(paying.payUp('http://node')).rejects.toThrow(/no voucher signed/);
    expect(n.seen).toHaveLength(2);
  });
});
