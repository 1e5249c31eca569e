/**
 * `tributary ask`: one paid question from the command line. The answer is paid on the caller's channel with an
 * EIP-712 voucher signed here (the node never holds the caller's key), then the voucher for the new cumulative
 * charge is sent at once, so the receipt is settled with the next epoch.
 */
import type { Command } from 'commander';
import OpenAI from 'openai';
import { type Address, formatUnits, type Hex } from 'viem';
import { createPayingFetch } from '../../settlement/index.js';
import { isJson } from '../options.js';
import { createOutput } from '../output.js';
import { publicApi, type RemoteOptions, signerFrom, withRemoteOptions } from '../remote.js';
import { shareLines } from './attribution.js';
import { openAmount, positiveInt } from './settlement.js';

interface Tributary {
  requestId: string;
  payment?: { fee: string; charged: string };
  receipt?: { id: Hex };
  attribution?: { sharesPpm: Record<string, number>; unattributedPpm: number; methods: string[] };
  retrieved?: { id: string; contributor: string }[];
}

export function registerAsk(program: Command): void {
  withRemoteOptions(
    program
      .command('ask <question>')
      .description('ask a model one question, paying on your channel with a voucher you sign')
      .requiredOption('--model <model>', 'model name or id')
      .requiredOption('--channel <id>', 'your payment channel to the node (tributary channel open)')
      .option('--max-tokens <n>', 'most output tokens', '64')
      .option('--max-fee <open>', 'refuse before generation if the answer could cost more than this many OPEN')
      .option('--retrieval', "put passages of the model's DataNet before the question (they earn when used)"),
  ).action(
    async (
      question: string,
      o: RemoteOptions & { model: string; channel: string; maxTokens: string; maxFee?: string; retrieval?: boolean },
      cmd: Command,
    ) => {
      const out = createOutput(isJson(cmd));
      const api = publicApi(o);
      const user = signerFrom(o);
      const channelId = BigInt(positiveInt(o.channel, '--channel'));
      const s = await api.request<{ node: Address; chainId: number; escrow: Address }>('GET', '/v1/settlement');
      const channel = await api.request<{ chargedWei: string }>('GET', `/v1/channels/${channelId}`);
      const paying = createPayingFetch({
        user,
        channelId,
        node: s.node,
        domain: { chainId: s.chainId, escrow: s.escrow },
        charged: BigInt(channel.chargedWei),
        ...(o.maxFee ? { maxFee: openAmount(o.maxFee, '--max-fee') } : {}),
      });
      const client = new OpenAI({ baseURL: `${api.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0, fetch: paying.fetch });
      const answer = await client.chat.completions.create({
        model: o.model,
        messages: [{ role: 'user', content: question }],
        max_tokens: positiveInt(o.maxTokens, '--max-tokens'),
        ...(o.retrieval ? { retrieval: true } : {}),
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      await paying.payUp(api.baseUrl);
      const t = (answer as unknown as { tributary: Tributary }).tributary;
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
    },
  );
}
