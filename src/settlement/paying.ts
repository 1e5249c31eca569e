/**
 * The paying fetch every client uses: the voucher-paying fetch of client.ts, with each paid request (one that
 * carries the channel header and a JSON body) also authorized by the channel's user — a RequestAuthorization of that
 * body, with the fee cap and the next nonce, signed here and sent in x-tributary-authorization. Requests go one
 * after another: nonces must reach the node in increasing order.
 */
import { createPayingFetch as createVoucherFetch, type PayingFetchOptions as VoucherFetchOptions } from './client.js';
import { NO_FEE_CAP, paidRequestHeaders, paymentHeaders } from './vouchers.js';

export interface PayingFetchOptions extends VoucherFetchOptions {
  /** The last authorization nonce used on the channel (GET /v1/channels/:id gives authNonce; 0 for a new one). */
  authNonce?: bigint;
}

/** A fetch that pays: channel, authorization and voucher headers on each request (see createPayingFetch in client). */
export function createPayingFetch(o: PayingFetchOptions) {
  const inner = o.fetch ?? fetch;
  let nonce = o.authNonce ?? 0n;
  const authorizing: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const channel = headers.get(paymentHeaders.channel);
    if (channel !== null && typeof init?.body === 'string') {
      let body: unknown;
      try {
        body = JSON.parse(init.body);
      } catch {
        body = undefined; // not JSON: nothing to authorize (the node refuses it anyway)
      }
      if (body !== undefined) {
        nonce += 1n;
        const signed = await paidRequestHeaders({
          user: o.user,
          domain: o.domain,
          channelId: o.channelId,
          node: o.node,
          body,
          maxFee: o.maxFee ?? NO_FEE_CAP,
          nonce,
        });
        headers.set(paymentHeaders.authorization, signed[paymentHeaders.authorization] as string);
      }
    }
    return inner(input, { ...init, headers });
  };
  return { ...createVoucherFetch({ ...o, fetch: authorizing }), authNonce: () => nonce };
}

/**
 * What someone who knows only a channel's id gets when they try to spend on it: the request is sent with the
 * channel header and no authorization of the channel's user. The node answers 401 (`unauthorized`), naming
 * x-tributary-authorization, and serves, reserves and charges nothing.
 */
export async function tryWithoutAuthorization(o: {
  api: string;
  channelId: bigint;
  body: unknown;
  path?: string;
  headers?: Record<string, string>;
}): Promise<{ status: number; code: string | null; message: string | null }> {
  const res = await fetch(`${o.api.replace(/\/+$/, '')}${o.path ?? '/v1/chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...o.headers, [paymentHeaders.channel]: o.channelId.toString() },
    body: JSON.stringify(o.body),
  });
  const e = ((await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null)?.error;
  return { status: res.status, code: e?.code ?? null, message: e?.message ?? null };
}
