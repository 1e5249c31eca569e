/**
 * Stage "serving": the fine-tuned planet model plus 50 more adapters registered on chain, all served from one
 * base model. Mixed requests go through the official `openai` client: questions to the planet model, and one-off
 * requests to the other adapters, which load just in time (cold) or switch between loaded ones (warm).
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import type { Hex } from 'viem';
import { devAccount } from '../../../chain/index.js';
import {
  adapterToGguf,
  baseModelFromGguf,
  bundledBaseModel,
  initLoraWeights,
  loraTargets,
} from '../../../engine/index.js';
import { publishModelOnChain } from '../../../factory/index.js';
import type { DemoStage } from '../context.js';
import { demoPayer } from '../payer.js';
import { DEMO_MODEL, MODEL_OWNER } from './factory.js';

export const EXTRA_ADAPTERS = 50;
export const PLANET_QUESTIONS = [
  'How many moons does Mars have?',
  'What is the diameter of Jupiter?',
  'How long is a year on Saturn?',
  'What is special about Uranus?',
  'How far is Neptune from the Sun?',
  'How hot is Venus?',
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
};

interface Tributary {
  coldLoad: boolean;
  loadMs: number;
  ttftMs: number;
  requestId: string;
}

export const servingStage: DemoStage = {
  name: 'serving',
  async run({ node, out, reports }) {
    const factory = reports.factory as { baseModelHash: Hex };
    const { clients, deployment } = node.chain;
    const owner = devAccount(MODEL_OWNER);
    const config = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights.config;
    const zero = `0x${'00'.repeat(32)}` as Hex;

    // 50 more specialized models: small rank-8 adapters, stored on the node and registered on chain.
    for (let i = 0; i < EXTRA_ADAPTERS; i++) {
      const bytes = adapterToGguf(
        initLoraWeights(config, { rank: 8, alpha: 16, dropout: 0, targets: [...loraTargets] }, 1000 + i, 0.02),
        { name: `demo-adapter-${i}` },
      );
      const res = await fetch(`${node.api}/v1/blobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.from(bytes),
      });
      const { sha256 } = (await res.json()) as { sha256: Hex };
      await publishModelOnChain(clients, owner, deployment.contracts.ModelRegistry, {
        name: `demo-adapter-${i}`,
        baseModelHash: factory.baseModelHash,
        adapterHash: sha256,
        dataNet: null,
        configHash: zero,
        receiptCid: '',
        priceInPer1k: 10n ** 14n,
        priceOutPer1k: 2n * 10n ** 14n,
      });
    }
    // The models are paid: a user opens a channel to the node and every request carries a voucher.
    const payer = await demoPayer(node);
    const client = new OpenAI({ apiKey: 'demo', baseURL: `${node.api}/v1`, maxRetries: 0, fetch: payer.fetch });
    const listed = (await client.models.list()).data.filter((m) => m.id !== bundledBaseModel.name);
    out.note(`  ${listed.length} models registered on the base ${bundledBaseModel.name}`);

    // The mix: planet questions interleaved with requests to the other adapters (each twice: cold, then warm).
    const plan: string[] = [];
    for (let i = 0; i < 20; i++) {
      plan.push(DEMO_MODEL, `demo-adapter-${i % 10}`);
    }
    const started = performance.now();
    let tokens = 0;
    let errors = 0;
    const cold: number[] = [];
    const warmSwitch: number[] = [];
    const answers: { question: string; answer: string; requestId: string }[] = [];
    let previous = '';
    for (const [i, model] of plan.entries()) {
      try {
        const question =
          model === DEMO_MODEL
            ? (PLANET_QUESTIONS[(i / 2) % PLANET_QUESTIONS.length] as string)
            : 'Tell me about rivers.';
        const r = await client.chat.completions.create({
          model,
          max_tokens: 24,
          messages: [{ role: 'user', content: question }],
        });
        const t = (r as unknown as { tributary: Tributary }).tributary;
        tokens += r.usage?.completion_tokens ?? 0;
        if (t.coldLoad) cold.push(t.loadMs);
        else if (model !== previous) warmSwitch.push(t.ttftMs);
        if (model === DEMO_MODEL && answers.length < PLANET_QUESTIONS.length)
          answers.push({ question, answer: r.choices[0]?.message.content ?? '', requestId: t.requestId });
      } catch {
        errors++;
      }
      previous = model;
    }
    // One streamed answer, as a chat UI would show it.
    const stream = await client.chat.completions.create({
      model: DEMO_MODEL,
      max_tokens: 24,
      stream: true,
      messages: [{ role: 'user', content: 'How many moons does Mars have?' }],
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    const seconds = (performance.now() - started) / 1000;
    for (const a of answers.slice(0, 3)) out.note(`  ${DEMO_MODEL} ← "${a.question}" → "${a.answer.trim()}"`);
    return {
      adaptersRegistered: listed.length,
      requests: plan.length + 1,
      errors,
      tokensPerSecond: Math.round(tokens / seconds),
      coldLoadMsP50: Math.round(median(cold) * 10) / 10,
      warmSwitchMsP50: Math.round(median(warmSwitch) * 10) / 10,
      answers,
      streamed,
      channelId: payer.channelId.toString(),
      paidWei: payer.charged().toString(),
    };
  },
};
