/**
 * Stage "serving": the fine-tuned planet model plus 50 more adapters registered on chain, all served from one
 * base model. Mixed requests go through the official `openai` client: questions to the planet model, and one-off
 * requests to the other adapters, which load just in time (cold) or switch between loaded ones (warm).
 */
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { zeroHash } from 'viem';
import { z } from 'zod';
import { devAccount } from '../../../chain/index.js';
import { BaseError } from '../../../core/index.js';
import {
  adapterToGguf,
  baseModelFromGguf,
  bundledBaseModel,
  initLoraWeights,
  loraTargets,
} from '../../../engine/index.js';
import { publishModelOnChain } from '../../../factory/index.js';
import { bytes32, createNodeClient, openloraApi, type TributaryField } from '../../../protocol/index.js';
import { storeBlob } from '../../remote.js';
import { barsMissed, type DemoStage, reportOf } from '../context.js';
import { demoPayer } from '../payer.js';
import { heldOutQuestions, PLANET_QUESTIONS } from '../planets.js';
import { DEMO_MODEL, MODEL_OWNER } from './factory.js';

export const EXTRA_ADAPTERS = 50;

/** Whether an answer states the fact: its key phrase appears in it, case and spacing ignored. */
export const statesFact = (answer: string, expected: string): boolean => {
  const norm = (x: string) => x.toLowerCase().replace(/\s+/g, ' ').trim();
  return norm(answer).includes(norm(expected));
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
};

/** The `tributary` field the node adds to an OpenAI answer (which the openai client's types do not know). */
function tributaryOf(answer: object): TributaryField {
  if (!('tributary' in answer))
    throw new BaseError('INTERNAL', 'The answer carries no tributary field', { details: { field: 'tributary' } });
  return openloraApi.tributaryField.parse(answer.tributary);
}

export const servingStage: DemoStage = {
  name: 'serving',
  async run({ node, out, reports }) {
    const factory = reportOf(reports, 'factory', z.object({ baseModelHash: bytes32 }));
    const { clients, deployment } = node.chain;
    const owner = devAccount(MODEL_OWNER);
    const config = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights.config;
    const api = createNodeClient(node.api);

    // 50 more specialized models: small rank-8 adapters, stored on the node and registered on chain.
    for (let i = 0; i < EXTRA_ADAPTERS; i++) {
      const bytes = adapterToGguf(
        initLoraWeights(config, { rank: 8, alpha: 16, dropout: 0, targets: [...loraTargets] }, 1000 + i, 0.02),
        { name: `demo-adapter-${i}` },
      );
      const { sha256 } = await storeBlob(api, bytes);
      await publishModelOnChain(clients, owner, deployment.contracts.ModelRegistry, {
        name: `demo-adapter-${i}`,
        baseModelHash: factory.baseModelHash,
        adapterHash: sha256,
        dataNet: null,
        configHash: zeroHash,
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
    const answers: { question: string; expected: string; answer: string; correct: boolean; requestId: string }[] = [];
    let previous = '';
    for (const [i, model] of plan.entries()) {
      try {
        const asked = model === DEMO_MODEL ? PLANET_QUESTIONS[(i / 2) % PLANET_QUESTIONS.length] : undefined;
        const question = asked?.question ?? 'Tell me about rivers.';
        const r = await client.chat.completions.create({
          model,
          max_tokens: 24,
          messages: [{ role: 'user', content: question }],
        });
        const t = tributaryOf(r);
        tokens += r.usage?.completion_tokens ?? 0;
        if (t.coldLoad) cold.push(t.loadMs);
        else if (model !== previous) warmSwitch.push(t.ttftMs);
        if (asked && answers.length < PLANET_QUESTIONS.length) {
          const answer = r.choices[0]?.message.content ?? '';
          const correct = statesFact(answer, asked.expected);
          answers.push({ question, expected: asked.expected, answer, correct, requestId: t.requestId });
        }
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
    // Questions worded unlike any row, answered with retrieval (passages of the DataNet before the question; no
    // max_tokens, so the answer gets what the context leaves): does the model use what it is given?
    const grounded = createNodeClient(node.api, { fetch: payer.fetch });
    const retrievalAnswers: { question: string; expected: string; answer: string; correct: boolean }[] = [];
    for (const { question, expected } of heldOutQuestions) {
      const r = await grounded.call(openloraApi.createChatCompletion, {
        body: { model: DEMO_MODEL, messages: [{ role: 'user', content: question }], retrieval: true },
      });
      const answer = r.choices[0]?.message.content ?? '';
      retrievalAnswers.push({ question, expected, answer, correct: statesFact(answer, expected) });
    }
    const retrievalRight = retrievalAnswers.filter((a) => a.correct).length;
    const retrievalHeldOut = retrievalRight / retrievalAnswers.length;
    for (const a of retrievalAnswers)
      out.note(
        `  ${a.correct ? '✓' : '✗'} with retrieval ← "${a.question}" → "${a.answer.trim()}" (expected "${a.expected}")`,
      );
    out.note(`  reworded questions with retrieval: ${retrievalRight} of ${retrievalAnswers.length} right`);
    const correct = answers.filter((a) => a.correct).length;
    for (const a of answers)
      out.note(
        `  ${a.correct ? '✓' : '✗'} ${DEMO_MODEL} ← "${a.question}" → "${a.answer.trim()}" (expected "${a.expected}")`,
      );
    out.note(`  ${correct} of ${answers.length} questions answered with the right fact`);
    return {
      adaptersRegistered: listed.length,
      requests: plan.length + 1,
      errors,
      tokensPerSecond: Math.round(tokens / seconds),
      coldLoadMsP50: Math.round(median(cold) * 10) / 10,
      warmSwitchMsP50: Math.round(median(warmSwitch) * 10) / 10,
      answers,
      correct,
      retrievalHeldOut: Math.round(retrievalHeldOut * 1000) / 1000,
      retrievalAnswers,
      barsMissed: barsMissed([
        [correct >= 5, `${correct} of ${answers.length} demo questions right < 5`],
        [
          retrievalHeldOut >= 0.6,
          `reworded questions with retrieval right ${retrievalRight} of ${retrievalAnswers.length} < 60%`,
        ],
      ]),
      streamed,
      channelId: payer.channelId.toString(),
      paidWei: payer.charged().toString(),
    };
  },
};
