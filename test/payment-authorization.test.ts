/**
 * Issue 10, attack 9: "anyone who knows a channel id spends on it". Every paid request must be authorized by the
 * channel's user (an EIP-712 RequestAuthorization bound to the channel, this node, the request body, a fee cap and
 * a strictly increasing nonce) before anything is served, reserved or charged.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Address, Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { OPEN } from '../src/chain/index.js';
import type { NodeUp } from '../src/node/index.js';
import { createNodeClient, settlementApi } from '../src/protocol/index.js';
import {
  encodeVoucherHeader,
  NO_FEE_CAP,
  openChannel,
  paidRequestHeaders,
  paymentHeaders,
  signVoucher,
  tryWithoutAuthorization,
} from '../src/settlement/index.js';
import { storeBackends } from './fixtures/db.js';
import { paidNodeForSuite, paidSuite } from './fixtures/paid-node.js';

const { user: USER, stranger: STRANGER } = paidSuite;
const MODEL = 'guarded-model';

let node: NodeUp;

const domain = () => ({
  chainId: node.chain.deployment.chainId,
  escrow: node.chain.deployment.contracts.InferenceEscrow,
});

/** The channel user's headers for `body`: channel, authorization (nonce, cap) and optionally a voucher. */
const signed = (
  channelId: bigint,
  body: unknown,
  nonce: bigint,
  o: { user?: typeof USER; maxFee?: bigint; voucher?: bigint | { amount: bigint; signature: Hex } } = {},
) =>
  paidRequestHeaders({
    user: o.user ?? USER,
    domain: domain(),
    channelId,
    node: node.nodeAddress as Address,
    body,
    maxFee: o.maxFee ?? NO_FEE_CAP,
    nonce,
    ...(o.voucher === undefined ? {} : { voucher: o.voucher }),
  });

const feeOf = (r: { body: Record<string, unknown> }) =>
  BigInt((r.body as { tributary: { payment: { fee: string } } }).tributary.payment.fee);

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${node.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are JSON of several shapes, each checked by expect
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const question = (content: string) => ({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content }] });

/** What the node holds for a channel, and how many receipts it wrote on it. */
async function state(channelId: bigint) {
  const c = await createNodeClient(node.api).call(settlementApi.getChannel, { params: { id: channelId } });
  const { rows } = await node.settlement.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM receipts WHERE channel_id = $1',
    [channelId.toString()],
  );
  return { charged: c.chargedWei, reserved: c.reservedWei, voucher: c.voucherWei, receipts: rows[0]?.n ?? -1 };
}

async function open(user = USER): Promise<bigint> {
  const { clients, deployment } = node.chain;
  return openChannel({
    clients,
    deployment,
    user,
    node: node.nodeAddress as Address,
    deposit: 1n * OPEN,
    durationSeconds: 30 * 86_400,
  });
}

describe.each(storeBackends())('payment authorization on $name', (backend) => {
  paidNodeForSuite('payauth', backend, MODEL, (n) => {
    node = n;
  });

  describe('request authorization', () => {
    it('attack: stranger who knows a channel id is refused before serving', async () => {
      const channelId = await open();
      const before = await state(channelId);
      expect(before).toMatchObject({ charged: 0n, reserved: 0n, receipts: 0 });
      // The stranger knows only the (sequential) channel id: no key of the channel's user.
      const body = question('Spend on someone else.');
      const r = await post('/v1/chat/completions', body, { [paymentHeaders.channel]: channelId.toString() });
      expect(r.status).toBe(401);
      expect(r.body.error).toEqual({
        message: `Paid requests on channel ${channelId} must carry x-tributary-authorization: "<nonce>:<max fee>:<signature>", the channel user's EIP-712 RequestAuthorization of this request body`,
        type: 'authentication_error',
        param: 'x-tributary-authorization',
        code: 'unauthorized',
      });
      expect(await state(channelId)).toEqual(before);

      // The exported helper the demo's adversarial stage uses gets the same answer.
      expect(await tryWithoutAuthorization({ api: node.api, channelId, body })).toMatchObject({
        status: 401,
        code: 'unauthorized',
      });

      // Signing with their own key does not help, nor does a voucher of their own.
      const own = await post(
        '/v1/chat/completions',
        body,
        await signed(channelId, body, 1n, { user: STRANGER, voucher: 1n }),
      );
      expect(own.status).toBe(401);
      expect(own.body.error.message).toBe(
        `x-tributary-authorization is not signed by channel ${channelId}'s user ${USER.address} for this request body, node, escrow and chain`,
      );
      expect(await state(channelId)).toEqual(before);

      // Nor does it once the user has paid for everything (no unpaid charge: the case served on credit before).
      const mine = await post('/v1/chat/completions', body, await signed(channelId, body, 1n));
      expect(mine.status).toBe(200);
      const fee = feeOf(mine);
      const paid = await signed(channelId, body, 2n, { voucher: fee });
      const voucher = await fetch(`${node.api}/v1/channels/${channelId}/voucher`, {
        method: 'POST',
        headers: { [paymentHeaders.voucher]: paid[paymentHeaders.voucher] as string },
      });
      expect(voucher.status).toBe(200);
      const settled = await state(channelId);
      expect(settled).toEqual({ charged: fee, reserved: 0n, voucher: fee, receipts: 1 });
      const again = await post('/v1/chat/completions', body, { [paymentHeaders.channel]: channelId.toString() });
      expect(again.status).toBe(401);
      expect(await state(channelId)).toEqual(settled);
    });

    it('attack: replayed authorization is refused', async () => {
      const channelId = await open();
      const body = question('Once only.');
      const first = await signed(channelId, body, 5n);
      const r = await post('/v1/chat/completions', body, first);
      expect(r.status).toBe(200);
      const after = await state(channelId);
      expect(after).toMatchObject({ charged: feeOf(r), reserved: 0n, receipts: 1 });

      // The same headers again (with the voucher now owed, so only the nonce is wrong).
      const replay = await post('/v1/chat/completions', body, {
        ...first,
        ...(await signed(channelId, body, 6n, { voucher: feeOf(r) })),
        [paymentHeaders.authorization]: first[paymentHeaders.authorization] as string,
      });
      expect(replay.status).toBe(401);
      expect(replay.body.error.message).toBe(
        `x-tributary-authorization nonce 5 on channel ${channelId} is not above the last one used (5): it was used already; sign this request with a new nonce`,
      );
      // A lower nonce signed later (reordered) fails the same way.
      const older = await post('/v1/chat/completions', body, await signed(channelId, body, 4n, { voucher: feeOf(r) }));
      expect(older.status).toBe(401);
      expect(older.body.error.param).toBe('x-tributary-authorization');
      expect(await state(channelId)).toEqual(after); // not even the voucher is taken from a refused request

      // Concurrent replays of one fresh authorization: exactly one is served.
      const next = await signed(channelId, body, 7n, { voucher: feeOf(r) });
      const raced = await Promise.all([0, 1, 2].map(() => post('/v1/chat/completions', body, next)));
      expect(raced.map((x) => x.status).sort()).toEqual([200, 401, 401]);
      expect((await state(channelId)).receipts).toBe(2);
    });

    it('attack: authorization for another request body is refused', async () => {
      const channelId = await open();
      const asked = question('What the user asked.');
      const headers = await signed(channelId, asked, 1n);
      for (const other of [
        question('What someone else wants answered.'),
        { ...asked, max_tokens: 16 },
        { ...asked, model: 'tributary-base-4m', max_tokens: 8 },
        { ...asked, temperature: 1.5 },
      ]) {
        const r = await post('/v1/chat/completions', other, headers);
        if (other.model !== MODEL) {
          expect(r.status).toBe(200); // the base model is free: no authorization needed, nothing charged
          continue;
        }
        expect(r.status).toBe(401);
        expect(r.body.error.message).toBe(
          `x-tributary-authorization is not signed by channel ${channelId}'s user ${USER.address} for this request body, node, escrow and chain`,
        );
      }
      // Another completion route with the same authorization: refused too.
      const text = await post(
        '/v1/completions',
        { model: MODEL, prompt: 'What the user asked.', max_tokens: 8 },
        headers,
      );
      expect(text.status).toBe(401);
      expect(await state(channelId)).toMatchObject({ charged: 0n, reserved: 0n, receipts: 0 });

      // Bound to this node, chain and escrow as well.
      const foreignDomain = await paidRequestHeaders({
        user: USER,
        domain: { ...domain(), chainId: 1 },
        channelId,
        node: node.nodeAddress as Address,
        body: asked,
        maxFee: NO_FEE_CAP,
        nonce: 1n,
      });
      expect((await post('/v1/chat/completions', asked, foreignDomain)).status).toBe(401);

      // A cap below the request's maximum fee is refused before anything is reserved, naming the header.
      const capped = await post('/v1/chat/completions', asked, await signed(channelId, asked, 1n, { maxFee: 1n }));
      expect(capped.status).toBe(402);
      expect(capped.body.error.message).toMatch(
        /^This request may cost up to \d+ wei, above the 1 wei its x-tributary-authorization allows: lower max_tokens or sign a higher cap$/,
      );
      expect(await state(channelId)).toMatchObject({ charged: 0n, reserved: 0n, receipts: 0 });

      // None of that used the nonce: the body it was signed for is still served with it.
      expect((await post('/v1/chat/completions', asked, headers)).status).toBe(200);
      expect((await state(channelId)).receipts).toBe(1);
    });

    it('attack: foreign voucher is refused before anything is charged', async () => {
      const channelId = await open();
      const body = question('Charge me once.');
      const r = await post('/v1/chat/completions', body, await signed(channelId, body, 1n));
      expect(r.status).toBe(200);
      const owed = feeOf(r);
      const before = await state(channelId);
      expect(before).toMatchObject({ charged: owed, voucher: 0n, receipts: 1 });

      // The user's own authorization, with a voucher signed by someone else (for the owed amount, and for more).
      for (const amount of [owed, owed + 1000n]) {
        const v = { channelId, node: node.nodeAddress as Address, cumulativeAmount: amount };
        const foreign = { amount, signature: await signVoucher(STRANGER, domain(), v) };
        const refused = await post(
          '/v1/chat/completions',
          body,
          await signed(channelId, body, 2n, { voucher: foreign }),
        );
        expect(refused.status).toBe(401);
        expect(refused.body.error.message).toBe(
          `Voucher is not signed by channel ${channelId}'s user ${USER.address} for this node, escrow and chain`,
        );
        expect(await state(channelId)).toEqual(before);
      }
      // On its own, too.
      const alone = await fetch(`${node.api}/v1/channels/${channelId}/voucher`, {
        method: 'POST',
        headers: {
          [paymentHeaders.voucher]: encodeVoucherHeader(
            owed,
            await signVoucher(STRANGER, domain(), {
              channelId,
              node: node.nodeAddress as Address,
              cumulativeAmount: owed,
            }),
          ),
        },
      });
      expect(alone.status).toBe(401);
      expect(await state(channelId)).toEqual(before);
      // The user's voucher, with the same (unused) nonce, is served.
      const paid = await post('/v1/chat/completions', body, await signed(channelId, body, 2n, { voucher: owed }));
      expect(paid.status).toBe(200);
    });
  });

  describe('tributary ask', () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'tributary.js');
    const ask = (api: string, channelId: bigint) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [
            bin,
            'ask',
            'Tell me about rivers.',
            '--model',
            MODEL,
            '--channel',
            channelId.toString(),
            '--max-tokens',
            '8',
            '--api',
            api,
            '--dev-account',
            '11',
            '--json',
          ],
          (e, stdout, stderr) => resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }),
        );
      });
    const errorOf = (stdout: string) =>
      (JSON.parse(stdout.trim().split('\n').at(-1) as string) as { error: { code: string; message: string } }).error;

    let proxy: Server | undefined;
    afterAll(() => proxy?.close());

    it('ask never signs for a charge it did not make', async () => {
      const channelId = await open();
      const ok = await ask(node.api, channelId);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      const fee = BigInt((JSON.parse(ok.stdout) as { tributary: { payment: { fee: string } } }).tributary.payment.fee);
      expect(await state(channelId)).toEqual({
        charged: fee,
        reserved: 0n,
        voucher: fee,
        receipts: 1,
      });

      // A charge this key never made (as a stranger's answer was charged before): ask signs nothing, asks nothing.
      await node.settlement.db.query('UPDATE channels SET charged = charged + 1000 WHERE id = $1', [
        channelId.toString(),
      ]);
      const padded = await ask(node.api, channelId);
      expect(padded.code).toBe(6);
      expect(errorOf(padded.stdout)).toEqual({
        code: 'PAYMENT_REQUIRED',
        message: `Channel ${channelId} shows ${fee + 1000n} wei charged, but your vouchers cover only ${fee}: ask signs only for its own request. Check the channel's receipts; if the rest is yours (an ask that did not finish), pay it with a voucher first`,
        details: expect.anything(),
      });
      expect(await state(channelId)).toMatchObject({ voucher: fee, receipts: 1 });
      await node.settlement.db.query('UPDATE channels SET charged = charged - 1000 WHERE id = $1', [
        channelId.toString(),
      ]);

      // A node that reports more charged than this answer's fee: the answer came, but no voucher is signed for it.
      proxy = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            ([k, v]) => typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k),
          ),
        ) as Record<string, string>;
        const upstream = await fetch(`${node.api}${req.url}`, {
          method: req.method ?? 'GET',
          headers,
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        let text = await upstream.text();
        if (req.url === '/v1/chat/completions' && upstream.ok) {
          const j = JSON.parse(text) as { tributary: { payment: { charged: string } } };
          j.tributary.payment.charged = (BigInt(j.tributary.payment.charged) + 1n).toString();
          text = JSON.stringify(j);
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      });
      await new Promise<void>((resolve) => proxy?.listen(0, '127.0.0.1', resolve));
      const port = (proxy.address() as { port: number }).port;
      const lying = await ask(`http://127.0.0.1:${port}`, channelId);
      expect(lying.code).toBe(5);
      const e = errorOf(lying.stdout);
      expect(e.code).toBe('CONFLICT');
      expect(e.message).toMatch(
        new RegExp(
          `^The node reports ${2n * fee + 1n} wei charged on channel ${channelId} after request cmpl-[0-9a-f]+, but you owed ${fee} before it and it cost ${fee} \\(cap \\d+\\): no voucher signed$`,
        ),
      );
      // Served and charged by the node, but the user's voucher still covers only the first answer.
      expect(await state(channelId)).toEqual({
        charged: 2n * fee,
        reserved: 0n,
        voucher: fee,
        receipts: 2,
      });
    });
  });
});
