import { describe, expect, it, vi } from 'vitest';
import type { CompleteOptions, LlamaRuntime, ServingContext } from '../engine/index.js';
import { type PaymentHooks, paymentGate } from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import type { ModelRecord, ModelRegistryMirror } from './registry.js';
import { checkPromptFits, createOpenLora, createStopFilter, groundedPrompt, type OpenLoraOptions } from './service.js';

describe('stop sequences', () => {
  it('ends the text before the first stop sequence, holding back what could start one', () => {
    const emitted: string[] = [];
    const f = createStopFilter(['END', 'STOP'], (d) => emitted.push(d));
    expect(f.push('Hello E')).toBe(false);
    // The last characters, as many as the longest stop sequence less one, could start one: held back.
    expect(emitted).toEqual(['Hell']);
    expect(f.push('ND and more')).toBe(true);
    expect(f.text).toBe('Hello ');
    expect(f.push(' ignored')).toBe(true);
    f.flush();
    expect(emitted.join('')).toBe('Hello ');
  });

  it('emits everything once generation ends without a stop sequence', () => {
    const emitted: string[] = [];
    const f = createStopFilter(['END'], (d) => emitted.push(d));
    f.push('The E');
    f.push('N');
    f.flush();
    expect(emitted.join('')).toBe('The EN');
    expect(f.stopped).toBe(false);
  });

  it('passes text straight through without stop sequences', () => {
    const emitted: string[] = [];
    const f = createStopFilter([], (d) => emitted.push(d));
    f.push('a');
    f.push('b');
    expect(emitted).toEqual(['a', 'b']);
  });
});

describe('reading the prompt', () => {
  it('puts retrieved passages before the prompt', () => {
    expect(groundedPrompt('Q?', { context: 'Context: rivers' })).toBe('Context: rivers\nQ?');
    expect(groundedPrompt('Q?', null)).toBe('Q?');
  });

  it('refuses an empty prompt or one that leaves no room for max_tokens, naming the field', () => {
    expect(() => checkPromptFits(0, 10, 128)).toThrow('The prompt is empty');
    expect(() => checkPromptFits(100, 40, 128)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ field: 'max_tokens' }) }),
    );
    expect(() => checkPromptFits(128, 1, 128)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'prompt' }) }),
    );
    expect(() => checkPromptFits(100, 28, 128)).not.toThrow();
  });
});

/** A runtime whose contexts "generate" the given pieces, recording what they were asked. */
function fakeRuntime(pieces: string[] | Error, completes: CompleteOptions[] = []): LlamaRuntime {
  const ctx: ServingContext = {
    sequences: 1,
    busy: 0,
    memoryBytes: 0,
    async complete(options) {
      completes.push(options);
      if (pieces instanceof Error) throw pieces;
      for (const p of pieces) options.onText?.(p);
      return {
        text: pieces.join(''),
        tokens: pieces.map((_, i) => i),
        promptTokens: 0,
        finishReason: 'length',
        ttftMs: 1,
      };
    },
    dispose: async () => {},
  };
  return {
    contextSize: 128,
    tokenize: (text: string) =>
      text
        .split(/\s+/)
        .filter(Boolean)
        .map((_, i) => i),
    openContext: async () => ctx,
    dispose: async () => {},
  } as unknown as LlamaRuntime;
}

/** OpenLoRA on fakes: a runtime that "generates" the given pieces, a registry of `models`, a store that counts. */
function fakeOpenLora(
  pieces: string[] | Error,
  hooks: Pick<OpenLoraOptions, 'payments' | 'retrieve' | 'otherBases'> = {},
  models: ModelRecord[] = [],
) {
  const completes: CompleteOptions[] = [];
  const runtime = fakeRuntime(pieces, completes);
  const usage: unknown[][] = [];
  const db = {
    query: async (_sql: string, params: unknown[]) => {
      usage.push(params);
      return { rows: [] };
    },
  } as unknown as Db;
  const mirror = {
    sync: async () => 0,
    list: async () => models,
    resolve: async (ref: string) => models.find((m) => m.name === ref),
  } as unknown as ModelRegistryMirror;
  const openlora = createOpenLora({
    runtime,
    db,
    mirror,
    blobs: {} as BlobStore,
    base: { name: 'base', sha256: `0x${'11'.repeat(32)}` },
    ...hooks,
  });
  return { openlora, completes, usage };
}

const outcome = {
  payment: { channelId: 1n, fee: 5n, charged: 5n, voucherFor: 5n },
  receipt: { id: `0x${'22'.repeat(32)}`, signature: `0x${'33'.repeat(65)}`, node: `0x${'44'.repeat(20)}` },
} as const;

function fakeHooks(): PaymentHooks<{ reserved: number }> & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    authorize: vi.fn(async () => {
      calls.push('authorize');
      return { reserved: 42 };
    }),
    settle: vi.fn(async () => {
      calls.push('settle');
      return outcome;
    }),
    abort: vi.fn(async () => {
      calls.push('abort');
    }),
  };
}

describe('infer, stage by stage', () => {
  it('serves the base model free, with stop sequences, streaming what is final', async () => {
    const { openlora, usage } = fakeOpenLora(['Rivers ', 'flow E', 'ND of story']);
    const streamed: string[] = [];
    const r = await openlora.infer({
      model: 'base',
      prompt: 'Where do rivers go?',
      maxTokens: 8,
      stop: ['END'],
      onText: (d) => streamed.push(d),
    });
    expect(r).toMatchObject({ text: 'Rivers flow ', finishReason: 'stop', promptTokens: 4, payment: null });
    expect(streamed.join('')).toBe('Rivers flow ');
    expect(usage.at(-1)?.[9]).toBe('ok');
  });

  it('authorizes before generation and settles after, with what was generated', async () => {
    const hooks = fakeHooks();
    const { openlora } = fakeOpenLora(['a ', 'b'], { payments: paymentGate(hooks) });
    const r = await openlora.infer({ id: 'cmpl-1', model: 'base', prompt: 'one two', maxTokens: 4 });
    expect(hooks.calls).toEqual(['authorize', 'settle']);
    expect(hooks.authorize).toHaveBeenCalledWith(
      expect.objectContaining({ promptTokens: 2, maxTokens: 4, requestId: 'cmpl-1' }),
    );
    expect(hooks.settle).toHaveBeenCalledWith(
      expect.objectContaining({
        authorization: { reserved: 42 },
        output: 'a b',
        promptTokens: 2,
        completionTokens: 2,
        requestId: 'cmpl-1',
      }),
    );
    expect(r.payment).toEqual(outcome);
  });

  it('aborts the reservation when generation fails, and meters the error', async () => {
    const hooks = fakeHooks();
    const { openlora, usage } = fakeOpenLora(new Error('llama failed'), { payments: paymentGate(hooks) });
    await expect(openlora.infer({ model: 'base', prompt: 'x', maxTokens: 2 })).rejects.toThrow('llama failed');
    expect(hooks.calls).toEqual(['authorize', 'abort']);
    expect(hooks.abort).toHaveBeenCalledWith({ reserved: 42 });
    expect(usage.at(-1)?.slice(9)).toEqual(['error', 'INTERNAL']);
  });

  it('generates nothing when payment is refused', async () => {
    const hooks = fakeHooks();
    hooks.authorize = async () => {
      throw new Error('pay first');
    };
    const { openlora, completes } = fakeOpenLora(['never'], { payments: paymentGate(hooks) });
    await expect(openlora.infer({ model: 'base', prompt: 'x', maxTokens: 2 })).rejects.toThrow('pay first');
    expect(completes).toHaveLength(0);
  });

  it('grounds the prompt with retrieval: the passages are read, priced and reported', async () => {
    const hooks = fakeHooks();
    const { openlora, completes } = fakeOpenLora(['ok'], {
      payments: paymentGate(hooks),
      retrieve: async ({ query, topK }) => ({
        context: `Context: ${query} ${topK}`,
        citations: [{ id: 'r1', contributor: '0xaa' }],
      }),
    });
    const r = await openlora.infer({
      model: 'base',
      prompt: 'Q',
      maxTokens: 2,
      retrieval: { query: 'rivers', topK: 1 },
    });
    expect(r.retrieved).toEqual([{ id: 'r1', contributor: '0xaa' }]);
    expect(r.promptTokens).toBe(4); // "Context: rivers 1" + "Q"
    expect(completes[0]?.prompt).toHaveLength(4);
    expect(hooks.authorize).toHaveBeenCalledWith(
      expect.objectContaining({ request: expect.objectContaining({ prompt: 'Context: rivers 1\nQ' }) }),
    );
  });

  it('shrinks a default max_tokens to what the context leaves after a grounded prompt, but never an asked one', async () => {
    const passages = Array.from({ length: 100 }, (_, i) => `p${i}`).join(' ');
    const hooks = fakeHooks();
    const { openlora, completes } = fakeOpenLora(['ok'], {
      payments: paymentGate(hooks),
      retrieve: async () => ({ context: passages, citations: [{ id: 'r1', contributor: '0xaa' }] }),
    });
    const asked = { model: 'base', prompt: 'Q', maxTokens: 64, retrieval: { query: 'q', topK: 2 } };
    // 101 prompt tokens in a context of 128: 27 are left for the answer, and the fee is reserved for 27.
    await openlora.infer({ ...asked, fitMaxTokens: true });
    expect(completes[0]?.maxTokens).toBe(27);
    expect(hooks.authorize).toHaveBeenCalledWith(expect.objectContaining({ promptTokens: 101, maxTokens: 27 }));
    // What was asked stays on the request: the receipt's requestHash covers it, as the body states it.
    expect(hooks.settle).toHaveBeenCalledWith(
      expect.objectContaining({ request: expect.objectContaining({ maxTokens: 27, askedMaxTokens: 64 }) }),
    );
    await expect(openlora.infer(asked)).rejects.toThrow(
      "The prompt (101 tokens) plus max_tokens (64) exceeds the model's context of 128 tokens",
    );
  });
});

describe('several base models', () => {
  const qwen = { name: 'tiny-qwen2', sha256: `0x${'aa'.repeat(32)}` as const };
  const onBase = (name: string, baseModelHash: string) =>
    ({
      id: 7n,
      name,
      active: true,
      baseModelHash,
      latest: { adapterHash: `0x${'bb'.repeat(32)}` },
    }) as unknown as ModelRecord;

  it('serves a registered base from its own runtime, loaded once on first use and again after a failed load', async () => {
    let opens = 0;
    let failNext = true;
    const { openlora } = fakeOpenLora(['from the main base'], {
      otherBases: {
        list: async () => [qwen],
        open: async () => {
          opens++;
          if (failNext) {
            failNext = false;
            throw new Error('llama.cpp could not load the model file');
          }
          return fakeRuntime(['from qwen']);
        },
      },
    });
    await expect(openlora.infer({ model: 'tiny-qwen2', prompt: 'x', maxTokens: 2 })).rejects.toThrow('could not load');
    for (let i = 0; i < 2; i++) {
      expect((await openlora.infer({ model: 'tiny-qwen2', prompt: 'x', maxTokens: 2 })).text).toBe('from qwen');
    }
    expect(opens).toBe(2);
    expect((await openlora.infer({ model: 'base', prompt: 'x', maxTokens: 2 })).text).toBe('from the main base');
    expect(openlora.metricsText()).toContain('tributary_base_models_loaded 2');
    expect((await openlora.listModels()).map((m) => m.id)).toEqual(['base', 'tiny-qwen2']);
  });

  it('attack: a model published on a base this node does not hold is not served, and not listed', async () => {
    const stranger = onBase('elsewhere', `0x${'cc'.repeat(32)}`);
    const { openlora, completes } = fakeOpenLora(
      ['never'],
      { otherBases: { list: async () => [qwen], open: async () => fakeRuntime([]) } },
      [stranger],
    );
    await expect(openlora.infer({ model: 'elsewhere', prompt: 'x', maxTokens: 2 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('built on a base model this node does not serve'),
    });
    expect(completes).toHaveLength(0);
    expect((await openlora.listModels()).map((m) => m.id)).toEqual(['base', 'tiny-qwen2']);
  });
});
