import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import {
  type ChatCompletionRequest,
  type CompletionRequest,
  openloraApi,
  type ServedModel,
} from '../protocol/index.js';
import {
  chatChunks,
  chatCompletionOf,
  chatMessagesOf,
  inferenceOptions,
  listedModelOf,
  openAiBaseError,
  openAiErrorBodyOf,
  parseChatRequest,
  parseCompletionRequest,
  refuseUnsupported,
  textChunks,
  textCompletionOf,
  tributaryOf,
} from './openai-routes.js';
import type { InferenceResult } from './service.js';

const hash = (b: string): Hex => `0x${b.repeat(32)}`;
const owner: Hex = '0x00000000000000000000000000000000000000Aa';

const registered: ServedModel = {
  id: 'rivers',
  name: 'rivers',
  modelId: 7n,
  adapterHash: hash('ab'),
  record: {
    id: 7n,
    name: 'rivers',
    owner,
    baseModelHash: hash('11'),
    priceInPer1k: 10n ** 15n,
    priceOutPer1k: 2n * 10n ** 15n,
    active: true,
    latest: {
      version: 1,
      adapterHash: hash('ab'),
      dataNetId: 3n,
      dataNetVersion: 2,
      dataNetRoot: hash('cd'),
      configHash: hash('ef'),
      receiptCid: 'bafy',
    },
  },
};
const base: ServedModel = { id: 'base', name: 'base', modelId: null, adapterHash: null, record: null };

const result = (over: Partial<InferenceResult> = {}): InferenceResult => ({
  id: 'cmpl-abc',
  model: registered,
  text: 'Rivers flow.',
  finishReason: 'stop',
  promptTokens: 5,
  completionTokens: 3,
  latencyMs: 12.6,
  ttftMs: 4.4,
  coldLoad: true,
  loadMs: 1.26,
  queueMs: 0.04,
  payment: null,
  retrieved: null,
  ...over,
});

/** The body as a route's schema decodes it (what the handler gets). */
const completion = (b: Record<string, unknown>): CompletionRequest =>
  openloraApi.completionRequest.parse({ model: 'm', prompt: 'p', ...b });
const chat = (b: Record<string, unknown>): ChatCompletionRequest =>
  openloraApi.chatCompletionRequest.parse({ model: 'm', messages: [{ role: 'user', content: 'q' }], ...b });

describe('parsing OpenAI requests', () => {
  it('refuses unsupported parameters by name, and accepts their neutral values', () => {
    expect(() => refuseUnsupported(chat({ tools: [{ type: 'function' }] }))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'tools' } }),
    );
    expect(() => refuseUnsupported(completion({ echo: true }))).toThrow("'echo' is not supported by this server");
    expect(() => refuseUnsupported(chat({ n: 2 }))).toThrow("'n' must be 1: this server returns one choice");
    expect(() => refuseUnsupported(chat({ response_format: { type: 'json_object' } }))).toThrow(
      "'response_format' json_object is not supported (text only)",
    );
    expect(() =>
      refuseUnsupported(chat({ logprobs: false, tools: null, n: 1, response_format: { type: 'text' } })),
    ).not.toThrow();
  });

  it('maps sampling parameters, caps and retrieval to inference options, leaving out absent and null ones', () => {
    expect(inferenceOptions(completion({ temperature: null, top_p: null, seed: null, stop: null }), 'p')).toEqual({});
    expect(
      inferenceOptions(
        completion({
          temperature: 0.5,
          top_p: 0.9,
          seed: 3,
          stop: 'END',
          user: 'u1',
          max_fee: '1000',
          max_royalty: 7,
          retrieval: true,
        }),
        'the query',
      ),
    ).toEqual({
      temperature: 0.5,
      topP: 0.9,
      seed: 3,
      stop: ['END'],
      requester: 'u1',
      maxFee: 1000n,
      maxRoyalty: 7n,
      retrieval: { query: 'the query', topK: 1 },
    });
    expect(inferenceOptions(completion({ stop: ['a', 'b'], retrieval: { top_k: 5 } }), 'q')).toEqual({
      stop: ['a', 'b'],
      retrieval: { query: 'q', topK: 5 },
    });
  });

  it('reads a text completion request: one prompt (or a list of one), max_tokens 64 by default, fitted to the context', () => {
    expect(parseCompletionRequest(completion({ prompt: ['only'], stream: true }))).toEqual({
      model: 'm',
      prompt: 'only',
      maxTokens: 64,
      fitMaxTokens: true,
      stream: true,
      includeUsage: false,
      options: {},
    });
    expect(parseCompletionRequest(completion({ prompt: 'p', max_tokens: 9 }))).toMatchObject({
      maxTokens: 9,
      fitMaxTokens: false,
    });
    expect(() => completion({ prompt: ['a', 'b'] })).toThrow();
  });

  it('reads a chat request: developer is system, text parts joined, retrieval searches the last user message', () => {
    expect(
      chatMessagesOf([
        { role: 'developer', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ]),
    ).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'ab' },
    ]);
    const parsed = parseChatRequest(
      chat({
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'second' },
        ],
        max_tokens: 10,
        max_completion_tokens: 20,
        stream_options: { include_usage: true },
        retrieval: true,
      }),
    );
    expect(parsed).toMatchObject({ maxTokens: 20, includeUsage: true, options: { retrieval: { query: 'second' } } });
    expect(parsed.prompt).toContain('second');
    expect(() => parseChatRequest(chat({ messages: [{ role: 'system', content: 'x' }] }))).toThrow(
      "'messages' must contain a user message",
    );
  });
});

describe('OpenAI answers', () => {
  const payment = {
    payment: { channelId: 4n, fee: 900n, charged: 1900n, voucherFor: 1900n },
    receipt: { id: hash('12'), signature: `0x${'34'.repeat(65)}` as Hex, node: owner },
  };

  it('carries the tributary field: ids, rounded timings, and what payment and retrieval added', () => {
    expect(tributaryOf(result())).toEqual({
      requestId: 'cmpl-abc',
      modelId: 7n,
      adapterHash: hash('ab'),
      latencyMs: 13,
      ttftMs: 4,
      coldLoad: true,
      loadMs: 1.3,
      queueMs: 0,
    });
    const paid = tributaryOf(result({ payment, retrieved: [{ id: 'r1', contributor: '0xbb' }] }));
    expect(paid).toMatchObject({ ...payment, retrieved: [{ id: 'r1', contributor: '0xbb' }] });
    // On the wire, amounts are decimal strings.
    expect(z.encode(openloraApi.tributaryField, paid).payment).toEqual({
      channelId: '4',
      fee: '900',
      charged: '1900',
      voucherFor: '1900',
    });
  });

  it('builds text and chat completions that match their declared schemas', () => {
    const text = z.encode(openloraApi.textCompletion, textCompletionOf(result({ payment }), 1700000000));
    expect(text).toMatchObject({
      id: 'cmpl-abc',
      object: 'text_completion',
      model: 'rivers',
      choices: [{ index: 0, text: 'Rivers flow.', logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
      tributary: { modelId: '7', payment: { fee: '900' } },
    });
    const answer = z.encode(openloraApi.chatCompletion, chatCompletionOf(result({ model: base }), 1700000000));
    expect(answer).toMatchObject({
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      model: 'base',
      choices: [{ message: { role: 'assistant', content: 'Rivers flow.', refusal: null } }],
      tributary: { modelId: null, adapterHash: null },
    });
  });

  it('builds stream chunks: the chat role first, deltas, the finish with tributary, then usage', () => {
    const c = chatChunks('chatcmpl-x', 1, 'rivers');
    const events = [c.start ?? c.text(''), c.text('Riv'), c.finish(result()), c.usage(result())];
    const wire = events.map((e) => z.encode(openloraApi.chatCompletionChunk, e));
    expect(wire.map((e) => e.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Riv' },
      {},
      null,
    ]);
    expect(wire[2]).toMatchObject({ choices: [{ finish_reason: 'stop' }], tributary: { requestId: 'cmpl-abc' } });
    expect(wire[3]).toMatchObject({ choices: [], usage: { total_tokens: 8 } });

    const t = textChunks('cmpl-x', 1, 'rivers');
    expect(t.start).toBeNull();
    expect(z.encode(openloraApi.textCompletionChunk, t.text('Riv')).choices).toEqual([
      { index: 0, text: 'Riv', logprobs: null, finish_reason: null },
    ]);
    expect(z.encode(openloraApi.textCompletionChunk, t.finish(result({ finishReason: 'length' })))).toMatchObject({
      choices: [{ text: '', finish_reason: 'length' }],
      tributary: { requestId: 'cmpl-abc' },
    });
  });

  it('lists models with their registry facts, the base model as {base: true}', () => {
    expect(z.encode(openloraApi.listedModel, listedModelOf(registered))).toEqual({
      id: 'rivers',
      object: 'model',
      created: 0,
      owned_by: owner,
      tributary: {
        modelId: '7',
        adapterHash: hash('ab'),
        priceInPer1k: '1000000000000000',
        priceOutPer1k: '2000000000000000',
        dataNet: { id: '3', version: 2, root: hash('cd') },
      },
    });
    expect(z.encode(openloraApi.listedModel, listedModelOf(base))).toMatchObject({
      owned_by: 'tributary',
      tributary: { base: true },
    });
  });
});

describe('OpenAI errors', () => {
  it('names the parameter of a validation error', () => {
    const e = openAiBaseError({ validation: [{ instancePath: '/messages/0/role', message: 'Invalid option' }] });
    expect(e).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'messages.0.role' } });
    expect(e.message).toBe("Invalid value for 'messages.0.role': Invalid option");
  });

  it("maps Fastify's body errors to the client's fault and anything else to a generic 500", () => {
    expect(openAiBaseError(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 })).message).toBe(
      'We could not parse the JSON body of your request: Unexpected token',
    );
    expect(
      openAiBaseError(Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }))
        .code,
    ).toBe('PAYLOAD_TOO_LARGE');
    expect(openAiBaseError(Object.assign(new Error('unsupported media'), { statusCode: 415 })).code).toBe(
      'INVALID_ARGUMENT',
    );
    const internal = openAiBaseError(new TypeError('x is undefined'));
    expect(internal).toMatchObject({
      code: 'INTERNAL',
      message: 'The server had an error while processing your request',
    });
  });

  it("a stream's error event is OpenAI's error body of the error table (not always server_error)", () => {
    expect(openAiErrorBodyOf(new BaseError('RATE_LIMITED', 'busy', { details: { retryAfterSeconds: 2 } }))).toEqual({
      error: { message: 'busy', type: 'rate_limit_error', param: null, code: 'rate_limited' },
    });
    expect(openAiErrorBodyOf(new Error('boom')).error).toMatchObject({ type: 'server_error', code: 'internal' });
  });
});
