/**
 * `tributary ask`: one paid question from the command line. Signed here with the caller's key (the node never
 * holds it): an EIP-712 authorization of exactly this request (its body, a fee cap, the channel's next nonce), and
 * after the answer a voucher for exactly what the caller owed before plus this answer's fee — never for a charge
 * it did not make. If the node reports any other total, ask refuses to sign and says so.
 */
import type { Command } from 'commander';
import OpenAI from 'openai';
import { type Address, formatUnits, type Hex, isAddressEqual } from 'viem';
import { BaseError, type ErrorCode, errorCodes } from '../../core/index.js';
import { createPayingFetch, NO_FEE_CAP, voucherSigner } from '../../settlement/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { publicApi, type RemoteOptions, signerFrom } from '../remote.js';
import { shareLines } from './attribution-actions.js';
import { openAmount, positiveInt } from './settlement-actions.js';

interface Tributary {
  requestId: string;
  payment?: { fee: string; charged: string };
  receipt?: { id: Hex };
  attribution?: { sharesPpm: Record<string, number>; unattributedPpm: number; methods: string[] };
  retrieved?: { id: string; contributor: string }[];
}

interface ChannelView {
  user: Address;
  node: Address;
  chargedWei: string;
  voucherWei: string;
  voucherSignature: Hex | null;
  availableWei: string;
  authNonce: string;
}

/** The node's OpenAI-shaped error as a BaseError with its code (so the exit code says what went wrong). */
function fromOpenAi(e: unknown): unknown {
  if (!(e instanceof OpenAI.APIError)) return e;
  const body = e.error as { message?: string; code?: string; param?: string | null } | undefined;
  const code = (body?.code ?? '').toUpperCase();
  return new BaseError((code in errorCodes ? code : 'INTERNAL') as ErrorCode, body?.message ?? e.message, {
    details: { status: e.status, ...(body?.param ? { field: body.param } : {}) },
    cause: e,
  });
}

export async function ask(
  question: string,
  o: RemoteOptions & { model: string; channel: string; maxTokens: string; maxFee?: string; retrieval?: boolean },
  cmd: Command,
) {
  const out = createOutput(isJson(cmd));
  const api = publicApi(o);
  const user = signerFrom(o);
  const channelId = BigInt(positiveInt(o.channel, '--channel'));
  const maxTokens = positiveInt(o.maxTokens, '--max-tokens');
  const capped = o.maxFee ? openAmount(o.maxFee, '--max-fee') : undefined;
  const s = await api.request<{ node: Address; chainId: number; escrow: Address }>('GET', '/v1/settlement');
  const domain = { chainId: s.chainId, escrow: s.escrow };
  const channel = await api.request<ChannelView>('GET', `/v1/channels/${channelId}`);
  if (!isAddressEqual(channel.user, user.address))
    throw new BaseError(
      'UNAUTHORIZED',
      `Channel ${channelId} is ${channel.user}'s, not yours (${user.address}): ask on a channel you opened`,
      { details: { field: '--channel' } },
    );

  // What this key already agreed to pay: the voucher it signed last (the node shows it; its signature proves it).
  const signed = BigInt(channel.voucherWei);
  if (
    signed > 0n &&
    (!channel.voucherSignature ||
      !isAddressEqual(
        voucherSigner(domain, { channelId, node: s.node, cumulativeAmount: signed }, channel.voucherSignature) ??
          '0x0000000000000000000000000000000000000000',
        user.address,
      ))
  ) {
    throw new BaseError(
      'CONFLICT',
      `The node shows a voucher for ${signed} wei on channel ${channelId} that your key did not sign: not asking through this node`,
      { details: { field: '--channel', voucherWei: channel.voucherWei } },
    );
  }
  const before = BigInt(channel.chargedWei);
  if (before > signed)
    throw new BaseError(
      'PAYMENT_REQUIRED',
      `Channel ${channelId} shows ${before} wei charged, but your vouchers cover only ${signed}: ask signs only for its own request. Check the channel's receipts; if the rest is yours (an ask that did not finish), pay it with a voucher first`,
      { details: { field: '--channel', chargedWei: channel.chargedWei, voucherWei: channel.voucherWei } },
    );
  // A cap the user chose, or what the channel still holds (a request can never cost more).
  const maxFee = capped ?? (BigInt(channel.availableWei) > 0n ? BigInt(channel.availableWei) : NO_FEE_CAP);
  const paying = createPayingFetch({
    user,
    channelId,
    node: s.node,
    domain,
    charged: before,
    authNonce: BigInt(channel.authNonce),
    authorizationCap: maxFee,
    ...(capped !== undefined ? { maxFee: capped } : {}),
  });
  const client = new OpenAI({ baseURL: `${api.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, fetch: paying.fetch });
  const answer = await client.chat.completions
    .create({
      model: o.model,
      messages: [{ role: 'user', content: question }],
      max_tokens: maxTokens,
      ...(o.retrieval ? { retrieval: true } : {}),
    } as OpenAI.ChatCompletionCreateParamsNonStreaming)
    .catch((e: unknown) => {
      throw fromOpenAi(e);
    });
  const t = (answer as unknown as { tributary: Tributary }).tributary;
  // A voucher for exactly what was owed before plus this answer's fee; CONFLICT (nothing signed) if the node
  // reported any other total.
  if (t.payment) await paying.payUp(api.baseUrl);
  const text = answer.choices[0]?.message.content ?? '';
  out.result({ answer: text, usage: answer.usage, tributary: t }, () => {
    const lines = [text.trim(), '', `request ${t.requestId}`];
    if (t.payment) lines.push(`paid ${formatUnits(BigInt(t.payment.fee), 18)} OPEN (receipt ${t.receipt?.id})`);
    if (t.retrieved?.length) lines.push(`retrieved: ${t.retrieved.map((r) => r.id.slice(0, 10)).join(', ')}`);
    if (t.attribution) {
      lines.push(`attribution (${t.attribution.methods.join(', ')}):`, ...shareLines(t.attribution));
    }
    return lines.join('\n');
  });
}
