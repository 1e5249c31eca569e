/**
 * `tributary ask`: one paid question from the command line. Signed here with the caller's key (the node never
 * holds it): an EIP-712 authorization of exactly this request (its body, a fee cap, the channel's next nonce), and
 * after the answer a voucher for exactly what the caller owed before plus this answer's fee — never for a charge
 * it did not make. If the node reports any other total, ask refuses to sign and says so.
 */
import type { Command } from 'commander';
import { formatUnits, isAddressEqual, zeroAddress } from 'viem';
import { BaseError } from '../../core/index.js';
import { createNodeClient, openloraApi, settlementApi } from '../../protocol/index.js';
import { createPayingFetch, NO_FEE_CAP, voucherSigner } from '../../settlement/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { publicApi, type RemoteOptions, signerFrom } from '../remote.js';
import { shareLines } from './attribution-actions.js';
import { openAmount, positiveInt } from './settlement-actions.js';

export interface AskOptions extends RemoteOptions {
  model: string;
  channel: string;
  /** Absent: the node's default, shrunk to what the model's context leaves after the (grounded) prompt. */
  maxTokens?: string;
  maxFee?: string;
  retrieval?: boolean;
}

export async function ask(question: string, o: AskOptions, cmd: Command) {
  const out = createOutput(isJson(cmd));
  const api = publicApi(o);
  const user = signerFrom(o);
  const channelId = BigInt(positiveInt(o.channel, '--channel'));
  const maxTokens = o.maxTokens === undefined ? undefined : positiveInt(o.maxTokens, '--max-tokens');
  const capped = o.maxFee ? openAmount(o.maxFee, '--max-fee') : undefined;
  const s = await api.call(settlementApi.getSettlement);
  if (!s.node)
    throw new BaseError('NODE_UNAVAILABLE', 'This node has no key, so it takes no payments', {
      details: { api: api.baseUrl },
    });
  const node = s.node;
  const domain = { chainId: s.chainId, escrow: s.escrow };
  const channel = await api.call(settlementApi.getChannel, { params: { id: channelId } });
  if (!isAddressEqual(channel.user, user.address))
    throw new BaseError(
      'UNAUTHORIZED',
      `Channel ${channelId} is ${channel.user}'s, not yours (${user.address}): ask on a channel you opened`,
      { details: { field: '--channel' } },
    );

  // What this key already agreed to pay: the voucher it signed last (the node shows it; its signature proves it).
  const signed = channel.voucherWei;
  if (
    signed > 0n &&
    (!channel.voucherSignature ||
      !isAddressEqual(
        voucherSigner(domain, { channelId, node, cumulativeAmount: signed }, channel.voucherSignature) ?? zeroAddress,
        user.address,
      ))
  ) {
    throw new BaseError(
      'CONFLICT',
      `The node shows a voucher for ${signed} wei on channel ${channelId} that your key did not sign: not asking through this node`,
      { details: { field: '--channel', voucherWei: signed.toString() } },
    );
  }
  const before = channel.chargedWei;
  if (before > signed)
    throw new BaseError(
      'PAYMENT_REQUIRED',
      `Channel ${channelId} shows ${before} wei charged, but your vouchers cover only ${signed}: ask signs only for its own request. Check the channel's receipts; if the rest is yours (an ask that did not finish), pay it with a voucher first`,
      { details: { field: '--channel', chargedWei: before.toString(), voucherWei: signed.toString() } },
    );
  // A cap the user chose, or what the channel still holds (a request can never cost more).
  const maxFee = capped ?? (channel.availableWei > 0n ? channel.availableWei : NO_FEE_CAP);
  const paying = createPayingFetch({
    user,
    channelId,
    node,
    domain,
    charged: before,
    authNonce: channel.authNonce,
    authorizationCap: maxFee,
    ...(capped !== undefined ? { maxFee: capped } : {}),
  });
  const paid = createNodeClient(api.baseUrl, { fetch: paying.fetch });
  const answer = await paid.call(openloraApi.createChatCompletion, {
    body: {
      model: o.model,
      messages: [{ role: 'user', content: question }],
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
      ...(o.retrieval ? { retrieval: true } : {}),
    },
  });
  const t = answer.tributary;
  // A voucher for exactly what was owed before plus this answer's fee; CONFLICT (nothing signed) if the node
  // reported any other total.
  if (t.payment) await paying.payUp(api.baseUrl);
  const text = answer.choices[0]?.message.content ?? '';
  out.result({ answer: text, usage: answer.usage, tributary: t }, () => {
    const lines = [text.trim(), '', `request ${t.requestId}`];
    if (t.payment) lines.push(`paid ${formatUnits(t.payment.fee, 18)} OPEN (receipt ${t.receipt?.id})`);
    if (t.retrieved?.length) lines.push(`retrieved: ${t.retrieved.map((r) => r.id.slice(0, 10)).join(', ')}`);
    if (t.attribution) {
      lines.push(`attribution (${t.attribution.methods.join(', ')}):`, ...shareLines(t.attribution));
    }
    return lines.join('\n');
  });
}
