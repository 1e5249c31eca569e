import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterToGguf } from './adapter-gguf.js';
import { bundledBaseModel } from './bundled.js';
import { loraTargets } from './config.js';
import { baseModelFromGguf } from './llama-gguf.js';
import { createLlamaRuntime, type LlamaRuntime } from './runtime.js';
import { initLoraWeights } from './weights.js';

let runtime: LlamaRuntime;
let adapterPath: string;

beforeAll(async () => {
  runtime = await createLlamaRuntime({ modelPath: bundledBaseModel.path });
  const config = baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).weights.config;
  // A non-zero B (last argument) so that the adapter changes the output.
  const adapter = initLoraWeights(config, { rank: 4, alpha: 8, dropout: 0, targets: [...loraTargets] }, 3, 0.5);
  adapterPath = join(mkdtempSync(join(tmpdir(), 'serving-')), 'a.gguf');
  writeFileSync(adapterPath, adapterToGguf(adapter, { name: 'test' }));
});

afterAll(async () => {
  await runtime.dispose();
});

describe('serving contexts', () => {
  it('decodes several sequences of one context together, streaming text that adds up', async () => {
    const ctx = await runtime.openContext({ sequences: 3 });
    const prompt = runtime.tokenize('dog (noun):');
    const chunks: string[] = [];
    const [a, b, c] = await Promise.all([
      ctx.complete({ prompt, maxTokens: 12, onText: (d) => chunks.push(d) }),
      ctx.complete({ prompt, maxTokens: 12 }),
      ctx.complete({ prompt: runtime.tokenize('river (noun):'), maxTokens: 12 }),
    ]);
    expect(chunks.join('')).toBe(a.text);
    expect(b.text).toBe(a.text); // greedy: same prompt, same answer, even decoded side by side
    expect(c.promptTokens).toBe(runtime.tokenize('river (noun):').length);
    expect(a.tokens.length).toBeGreaterThan(0);
    expect(a.ttftMs).toBeGreaterThan(0);
    expect(ctx.busy).toBe(0);
    await ctx.dispose();
  });

  it('applies the adapter, stops on abort, and frees the adapter with its last context', async () => {
    const plain = await runtime.openContext({});
    const adapted = await runtime.openContext({ adapters: [{ path: adapterPath }] });
    const prompt = runtime.tokenize('happiness (noun):');
    const p = await plain.complete({ prompt, maxTokens: 16 });
    const q = await adapted.complete({ prompt, maxTokens: 16 });
    expect(q.text).not.toBe(p.text);
    const controller = new AbortController();
    let n = 0;
    const aborted = await adapted.complete({
      prompt,
      maxTokens: 30,
      signal: controller.signal,
      onText: () => {
        if (++n === 2) controller.abort();
      },
    });
    expect(aborted.finishReason).toBe('abort');
    expect(aborted.tokens.length).toBeLessThan(30);
    await adapted.dispose();
    await plain.dispose();
    // Reopening after the adapter was freed loads it again and gives the same answer.
    const again = await runtime.openContext({ adapters: [{ path: adapterPath }] });
    expect((await again.complete({ prompt, maxTokens: 16 })).text).toBe(q.text);
    await again.dispose();
  });

  it('refuses prompts that do not fit the context', async () => {
    const ctx = await runtime.openContext({});
    await expect(ctx.complete({ prompt: new Array(runtime.contextSize).fill(5), maxTokens: 4 })).rejects.toThrow(
      'The token sequence does not fit the context',
    );
    await ctx.dispose();
  });
});
