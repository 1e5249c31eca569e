// Ask a paid model one question through the OpenAI client, paying on your channel: each request carries your
// signed authorization of its body (x-tributary-authorization), and a voucher pays for what was charged.
//
//   node docs/examples/paid-question.mjs --channel 1 --model zorblax-facts "How many moons does Zorblax have?"
//
// Node API: $TRIBUTARY_API (default http://127.0.0.1:7420). Signing key: $TRIBUTARY_PRIVATE_KEY, or
// --dev-account N on a local chain. Run from the repository after `npm ci` (it imports the compiled dist/).
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { privateKeyToAccount } from 'viem/accounts';
import { devAccount } from '../../dist/chain/index.js';
import { createPayingFetch } from '../../dist/settlement/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    channel: { type: 'string' },
    model: { type: 'string' },
    'max-tokens': { type: 'string', default: '32' },
    'dev-account': { type: 'string' },
  },
});
if (!values.channel || !values.model || positionals.length !== 1) {
  console.error('usage: paid-question.mjs --channel ID --model NAME [--max-tokens N] [--dev-account N] "question"');
  process.exit(2);
}
const api = (process.env.TRIBUTARY_API ?? 'http://127.0.0.1:7420').replace(/\/+$/, '');
const user =
  values['dev-account'] !== undefined
    ? devAccount(Number(values['dev-account']))
    : privateKeyToAccount(process.env.TRIBUTARY_PRIVATE_KEY);

const get = async (path) => {
  const res = await fetch(`${api}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
};
const settlement = await get('/v1/settlement'); // the node to pay, the escrow and the chain: the voucher's domain
// The channel as the node sees it: what you already signed vouchers for, and the last authorization nonce used.
const channel = await get(`/v1/channels/${values.channel}`);

const paying = createPayingFetch({
  user,
  channelId: BigInt(values.channel),
  node: settlement.node,
  domain: { chainId: settlement.chainId, escrow: settlement.escrow },
  // Start from what you signed, not from what the node says is charged: if more is owed, the node says so.
  charged: BigInt(channel.voucherWei),
  authNonce: BigInt(channel.authNonce),
});
const client = new OpenAI({ baseURL: `${api}/v1`, apiKey: 'unused', fetch: paying.fetch });
const answer = await client.chat.completions.create({
  model: values.model,
  messages: [{ role: 'user', content: positionals[0] }],
  max_tokens: Number(values['max-tokens']),
});
// Pay for this answer now (a voucher for the new cumulative charge) instead of with the next request.
await paying.payUp(api);

console.log(answer.choices[0]?.message.content?.trim());
console.log(JSON.stringify(answer.tributary, null, 2));
