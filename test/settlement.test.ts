/**
 * Payable inference end to end on a real node (local anvil, the bundled base model), on every store backend: quotes
 * and caps, payment channels with vouchers (forged, foreign and replayed ones refused), signed receipts, an epoch
 * closed, recomputed from its public export, finalized and claimed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { type Address, getAddress, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { advanceTime, OPEN, OpenTokenArtifact, RewardDistributorArtifact } from '../src/chain/index.js';
import { canonicalJson } from '../src/core/index.js';
import { bundledBaseModel } from '../src/engine/index.js';
import type { NodeUp } from '../src/node/index.js';
import { createNodeClient, settlementApi } from '../src/protocol/index.js';
import {
  claimPayouts,
  computeFee,
  createPayingFetch,
  encodeVoucherHeader,
  NO_FEE_CAP,
  openChannel,
  paidRequestHeaders,
  parseEpochExport,
  paymentHeaders,
  signVoucher,
  verifyEpochExport,
} from '../src/settlement/index.js';
import { expectRevert } from './fixtures/chain.js';
import { storeBackends } from './fixtures/db.js';
import { rejectionOf } from './fixtures/errors.js';
import { paidNodeForSuite, paidSuite } from './fixtures/paid-node.js';

const { user: USER, stranger: STRANGER, owner: OWNER, prices } = paidSuite;
const MODEL = 'paid-model';

let node: NodeUp;
let channelId: bigint;
let paying: ReturnType<typeof createPayingFetch>;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${node.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are JSON of several shapes, each checked by expect
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const CHAT = { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'Tell me about rivers.' }] };
const chat = (headers: Record<string, string> = {}) => post('/v1/chat/completions', CHAT, headers);

describe.each(storeBackends())('settlement on $name', (backend) => {
  paidNodeForSuite('settlement', backend, MODEL, (n) => {
    node = n;
  });

  describe('payable inference', () => {
    it('quotes the most a request can cost before anything is spent, and honours caps', async () => {
      const q = await post('/v1/quote', { model: MODEL, prompt: 'Tell me about rivers.', max_tokens: 32 });
      expect(q.status).toBe(200);
      const params = await node.settlement.params();
      const expected = computeFee(
        params,
        { inPer1k: prices.priceInPer1k, outPer1k: prices.priceOutPer1k },
        q.body.inputTokens,
        32,
      );
      expect(q.body).toMatchObject({
        model: MODEL,
        node: node.nodeAddress,
        maxFeeWei: expected.fee.toString(),
        maxRoyaltyWei: expected.net.toString(),
      });
      expect(
        BigInt(q.body.split.platform) +
          BigInt(q.body.split.modelOwner) +
          BigInt(q.body.split.stakers) +
          BigInt(q.body.split.contributors),
      ).toBe(expected.fee);

      const capped = await post('/v1/quote', {
        model: MODEL,
        prompt: 'Tell me about rivers.',
        max_tokens: 32,
        max_fee: '1',
      });
      expect(capped.status).toBe(402);
      expect(capped.body.error.message).toBe(
        `This request may cost up to ${expected.fee} wei, above your max_fee of 1: lower max_tokens or raise the cap`,
      );

      const both = await post('/v1/quote', { model: MODEL, max_tokens: 32 });
      expect(both.status).toBe(400);
      expect(both.body.error.message).toContain('give exactly one of prompt or messages');
    });

    it('refuses a paid model without a channel, naming the cost and the node; the base model stays free', async () => {
      const r = await chat();
      expect(r.status).toBe(402);
      expect(r.body.error.code).toBe('payment_required');
      expect(r.body.error.message).toMatch(
        new RegExp(
          `^Model "${MODEL}" is paid: this request may cost up to \\d+ wei of OPEN\\. Open a channel to node ${node.nodeAddress} and send its id in x-tributary-channel$`,
        ),
      );
      const capped = await post('/v1/chat/completions', {
        model: MODEL,
        max_tokens: 8,
        max_fee: '5',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(capped.status).toBe(402);
      expect(capped.body.error.param).toBe('max_fee');
      const free = await post('/v1/chat/completions', {
        model: bundledBaseModel.name,
        max_tokens: 2,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(free.status).toBe(200);
    });

    it('serves paid requests through a channel and signs a receipt for each', async () => {
      const { clients, deployment } = node.chain;
      channelId = await openChannel({
        clients,
        deployment,
        user: USER,
        node: node.nodeAddress as Address,
        deposit: 1n * OPEN,
        durationSeconds: 30 * 86_400,
      });
      paying = createPayingFetch({
        user: USER,
        channelId,
        node: node.nodeAddress as Address,
        domain: { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow },
      });
      const client = new OpenAI({ apiKey: 'x', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: paying.fetch });
      let fees = 0n;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await client.chat.completions.create({
          model: MODEL,
          max_tokens: 8,
          messages: [{ role: 'user', content: `Question ${i}?` }],
        });
        const t = (
          r as unknown as {
            tributary: { requestId: string; payment: { fee: string; charged: string }; receipt: { id: Hex } };
          }
        ).tributary;
        fees += BigInt(t.payment.fee);
        expect(BigInt(t.payment.charged)).toBe(fees);
        ids.push(t.requestId);
      }
      // Streaming pays the same way: the last chunk carries the payment.
      const stream = await client.chat.completions.create({
        model: MODEL,
        max_tokens: 8,
        stream: true,
        messages: [{ role: 'user', content: 'Stream?' }],
      });
      for await (const _ of stream) {
        // drain
      }
      expect(paying.charged()).toBeGreaterThan(fees);
      const api = createNodeClient(node.api);
      for (const id of ids) {
        const receipt = await api.call(settlementApi.getReceipt, { params: { id } });
        expect(receipt).toMatchObject({
          verified: true,
          node: node.nodeAddress,
          model: MODEL,
          signed: { channelId },
        });
      }
      const c = await api.call(settlementApi.getChannel, { params: { id: channelId } });
      expect(c.chargedWei).toBe(paying.charged());
      expect(c.reservedWei).toBe(0n);
    });

    it('refuses forged, foreign, over-deposit and stale vouchers, and asks for what is owed', async () => {
      const { deployment } = node.chain;
      const domain = { chainId: deployment.chainId, escrow: deployment.contracts.InferenceEscrow };
      const owed = paying.charged();
      const v = { channelId, node: node.nodeAddress as Address, cumulativeAmount: owed };
      // The user's authorization of the request (refused requests do not use up its nonce), with the voucher under test.
      const auth = await paidRequestHeaders({
        user: USER,
        domain,
        channelId,
        node: node.nodeAddress as Address,
        body: CHAT,
        maxFee: NO_FEE_CAP,
        nonce: paying.authNonce() + 1n,
      });
      const headers = (voucher: string) => ({ ...auth, [paymentHeaders.voucher]: voucher });

      const none = await chat(auth);
      expect(none.status).toBe(402);
      expect(none.body.error.message).toBe(
        `Channel ${channelId} owes ${owed} wei for earlier requests: send a voucher for cumulative amount ${owed}`,
      );

      const notTheUser = await chat(headers(encodeVoucherHeader(owed, await signVoucher(STRANGER, domain, v))));
      expect(notTheUser.status).toBe(401);
      expect(notTheUser.body.error.message).toBe(
        `Voucher is not signed by channel ${channelId}'s user ${USER.address} for this node, escrow and chain`,
      );

      const otherChain = await chat(
        headers(encodeVoucherHeader(owed, await signVoucher(USER, { ...domain, chainId: 1 }, v))),
      );
      expect(otherChain.status).toBe(401);
      const otherNode = await chat(
        headers(encodeVoucherHeader(owed, await signVoucher(USER, domain, { ...v, node: STRANGER.address }))),
      );
      expect(otherNode.status).toBe(401);
      const otherChannel = await chat(
        headers(encodeVoucherHeader(owed, await signVoucher(USER, domain, { ...v, channelId: channelId + 1n }))),
      );
      expect(otherChannel.status).toBe(401);
      const otherEscrow = await chat(
        headers(
          encodeVoucherHeader(
            owed,
            await signVoucher(USER, { ...domain, escrow: deployment.contracts.RewardDistributor }, v),
          ),
        ),
      );
      expect(otherEscrow.status).toBe(401);

      const tooMuch = 2n * OPEN;
      const over = await chat(
        headers(encodeVoucherHeader(tooMuch, await signVoucher(USER, domain, { ...v, cumulativeAmount: tooMuch }))),
      );
      expect(over.status).toBe(402);
      expect(over.body.error.message).toBe(`Voucher for ${tooMuch} exceeds the channel's deposit of ${OPEN}`);

      const stale = await chat(
        headers(encodeVoucherHeader(owed - 1n, await signVoucher(USER, domain, { ...v, cumulativeAmount: owed - 1n }))),
      );
      expect(stale.status).toBe(402);

      const malformed = await chat(headers('12:0xnope'));
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.message).toBe('x-tributary-voucher must be "<cumulative amount>:<signature>"');
    });

    it('closes an epoch whose payouts equal the fees, recomputable from its export; claims pay once', async () => {
      const { clients, deployment } = node.chain;
      await paying.payUp(node.api);
      const unauthorized = await post('/v1/epochs/close', {});
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.body.error.message).toBe(
        `POST /v1/epochs/close is for the node's operator: send "Authorization: Bearer <token>" with the token in ${join(node.dataDir, 'operator-token')}`,
      );
      const ops = createNodeClient(node.api, { headers: { authorization: `Bearer ${node.operatorToken}` } });
      const epoch = await ops.call(settlementApi.closeEpoch);
      expect(epoch).toMatchObject({ epoch: 1, receipts: 4, feesWei: paying.charged() });
      expect(Object.values(epoch.payoutsWei).reduce((a, b) => a + BigInt(b), 0n)).toBe(paying.charged());

      // The escrow paid the node's redemption into the distributor.
      const distributor = {
        address: deployment.contracts.RewardDistributor,
        abi: RewardDistributorArtifact.abi,
      } as const;
      const nodeAddress = node.settlement.node as Address;
      expect(
        (await clients.public.readContract({ ...distributor, functionName: 'nodeState', args: [nodeAddress] }))
          .feesReceived,
      ).toBe(paying.charged());

      // A challenger's check, from the export alone; a tampered export does not verify.
      const api = createNodeClient(node.api);
      expect(await api.call(settlementApi.verifyEpoch, { params: { epoch: 1 } })).toMatchObject({
        ok: true,
        problems: [],
      });
      const text = await (await api.open(settlementApi.getEpochReceipts, { params: { epoch: 1 } })).text();
      const exported = parseEpochExport(text);
      const posted = await clients.public.readContract({
        ...distributor,
        functionName: 'getEpoch',
        args: [nodeAddress, 1n],
      });
      const tampered = structuredClone(exported);
      (tampered.receipts[0] as { fee: { owner: bigint } }).fee.owner += 1n;
      const v = await verifyEpochExport(tampered, new Map(), posted);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toMatch(/^receipt 0x[0-9a-f]{64}: fee parts add up to \d+, not \d+$/);

      // Claims wait for the window; then each payee is paid exactly once.
      const early = await rejectionOf(ops.call(settlementApi.finalizeEpoch, { params: { epoch: 1 } }));
      expect(early.code).toBe('CONTRACT_REVERTED');
      expect(early.details.error).toBe('NotFinal');
      const params = await node.settlement.params();
      await advanceTime(clients, Number(params.challengeWindow) + 1);
      await ops.call(settlementApi.finalizeEpoch, { params: { epoch: 1 } });
      const p = await api.call(settlementApi.getPayout, { params: { address: OWNER.address } });
      expect(p.claimableWei).toBe(BigInt(epoch.payoutsWei.modelOwner as string));
      const token = { address: deployment.contracts.OpenToken, abi: OpenTokenArtifact.abi } as const;
      const before = await clients.public.readContract({ ...token, functionName: 'balanceOf', args: [OWNER.address] });
      const claim = {
        node: nodeAddress,
        account: getAddress(OWNER.address),
        cumulative: p.cumulativeWei,
        proof: p.proof,
      };
      await expectRevert(
        claimPayouts(clients, deployment, STRANGER, [{ ...claim, cumulative: claim.cumulative + 1n }]),
        'InvalidProof',
      );
      await claimPayouts(clients, deployment, STRANGER, [claim]);
      expect(await clients.public.readContract({ ...token, functionName: 'balanceOf', args: [OWNER.address] })).toBe(
        before + claim.cumulative,
      );
      await expectRevert(claimPayouts(clients, deployment, STRANGER, [claim]), 'NothingToClaim');

      const earnings = await api.call(settlementApi.getEarnings, { params: { address: OWNER.address } });
      expect(earnings).toMatchObject({
        cumulativeWei: claim.cumulative,
        claimedWei: claim.cumulative,
        byModel: [{ model: MODEL, receipts: 4 }],
      });
    });
  });

  describe("tributary epoch verify (on the auditor's machine)", () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'tributary.js');
    /** `tributary epoch verify <epoch> --json` against the node and its chain (asynchronously: the node is in this process). */
    const verify = (epoch: number, ...flags: string[]) =>
      new Promise<{ code: number; out: { ok: boolean; problems: string[] } }>((resolve) => {
        execFile(
          process.execPath,
          [bin, 'epoch', 'verify', String(epoch), '--api', node.api, '--json', ...flags],
          (e, stdout) =>
            resolve({ code: e ? Number(e.code ?? 1) : 0, out: JSON.parse(stdout.trim().split('\n').at(-1) as string) }),
        );
      });

    it("verifies the honest epoch from the chain and the node's public blobs", async () => {
      const r = await verify(1);
      expect(r.out.problems).toEqual([]);
      expect(r).toMatchObject({ code: 0, out: { ok: true } });
    });

    it("attack: an export that redirects the unattributed shares in its params (ProtocolConfig's recipient is checked at the stake block)", async () => {
      const api = createNodeClient(node.api);
      const exported = parseEpochExport(
        await (await api.open(settlementApi.getEpochReceipts, { params: { epoch: 1 } })).text(),
      );
      const redirected = {
        ...exported,
        params: { ...exported.params, unattributedAccount: getAddress(OWNER.address) },
      };
      const dir = mkdtempSync(join(tmpdir(), 'tributary-epoch-'));
      try {
        const file = join(dir, 'redirected.json');
        writeFileSync(file, canonicalJson(redirected));
        const r = await verify(1, '--export', file);
        expect(r.code).toBe(1);
        expect(r.out.problems).toContain(
          `params: not ProtocolConfig's at block ${exported.stakeBlock}: unattributedAccount ${getAddress(OWNER.address)} (ProtocolConfig: ${exported.params.unattributedAccount})`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('attack: a node moves 1 wei of a receipt from the contributors to the model owner and posts the matching root', async () => {
      const client = new OpenAI({ apiKey: 'x', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: paying.fetch });
      await client.chat.completions.create({
        model: MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'More?' }],
      });
      await paying.payUp(node.api);
      // The dishonest node edits what it stored before closing: the export, its root and the posted root agree.
      const { rows } = await node.db.query<{ id: Hex; fee_breakdown: Record<string, string> }>(
        'SELECT id, fee_breakdown FROM receipts WHERE epoch IS NULL ORDER BY seq LIMIT 1',
      );
      const [target] = rows;
      if (!target) throw new Error('no unsettled receipt');
      const { owner, contributors } = target.fee_breakdown;
      const skimmed = {
        ...target.fee_breakdown,
        owner: String(BigInt(owner as string) + 1n),
        contributors: String(BigInt(contributors as string) - 1n),
      };
      await node.db.query('UPDATE receipts SET fee_breakdown = $2::jsonb WHERE id = $1', [
        target.id,
        JSON.stringify(skimmed),
      ]);
      const ops = createNodeClient(node.api, { headers: { authorization: `Bearer ${node.operatorToken}` } });
      const epoch = await ops.call(settlementApi.closeEpoch);
      expect(epoch).toMatchObject({ epoch: 2, status: 'posted' });

      const r = await verify(2);
      expect(r.code).toBe(1);
      expect(r.out.ok).toBe(false);
      expect(r.out.problems).toEqual([
        `receipt ${target.id}: the fee split is not the parameters' for a token fee of ${target.fee_breakdown.tokenFee}: owner ${skimmed.owner} (not ${owner}), contributors ${skimmed.contributors} (not ${contributors})`,
      ]);
      // The node's own verify route runs the same audit.
      const api = createNodeClient(node.api);
      expect((await api.call(settlementApi.verifyEpoch, { params: { epoch: 2 } })).problems).toEqual(r.out.problems);
    });
  });

  describe('tributary ask', () => {
    it('asks a paid question from the command line, signing the voucher with the caller key', async () => {
      const { clients, deployment } = node.chain;
      const own = await openChannel({
        clients,
        deployment,
        user: STRANGER,
        node: node.nodeAddress as Address,
        deposit: 1n * OPEN,
        durationSeconds: 30 * 86_400,
      });
      const bin = join(import.meta.dirname, '..', 'bin', 'tributary.js');
      const args = ['ask', 'Tell me about rivers.', '--model', MODEL, '--channel', own.toString(), '--max-tokens', '8'];
      // Asynchronously: the node answering the CLI runs in this process.
      const run = (account: string) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            [bin, ...args, '--api', node.api, '--dev-account', account, '--json'],
            (e, stdout, stderr) => resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }),
          );
        });
      const r = await run('12');
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as {
        answer: string;
        tributary: { requestId: string; payment: { fee: string } };
      };
      expect(BigInt(out.tributary.payment.fee)).toBeGreaterThan(0n);
      // The voucher for the answer was sent right away: the channel shows it paid.
      const c = await createNodeClient(node.api).call(settlementApi.getChannel, { params: { id: own } });
      expect(c.voucherWei).toBe(BigInt(out.tributary.payment.fee));
      // Someone else's key cannot spend on this channel (ask refuses it before asking; so would the node).
      const again = await run('11');
      expect(again.code).toBe(6);
      expect(again.stdout).toContain('UNAUTHORIZED');
    });
  });
});
