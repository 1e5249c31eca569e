/**
 * Token ids equal llama.cpp's for every tokenizer type the engine reads from a GGUF: byte-level BPE with GPT-2's,
 * Llama 3's (llama-bpe), Qwen2's and SmolLM's pre-tokenizers, and SentencePiece (`llama`) with byte fallback — on
 * a multilingual text, the varied corpus and fuzzed strings, each vocabulary in a model file llama.cpp loads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseModelFromGguf, baseModelToGguf } from './llama-gguf.js';
import { createLlamaRuntime } from './runtime.js';
import { fuzzStrings, tinyConfig, variedTexts } from './test-support/fixtures.js';
import { trainSpmVocab } from './test-support/spm.js';
import { createTokenizer, endOfText, trainBpe, type Vocabulary } from './tokenizer.js';
import { initLlamaWeights } from './weights.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-tokenizers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const multilingual = [
  "The river's source isn't far: we'll walk 12,345 metres (about 7.67 mi) by 3pm — DON'T be late!",
  'Le cœur a ses raisons que la raison ne connaît point; Straße, Grüße, æøå, ğüşıöç.',
  'Москва — столица России. Ελληνική γλώσσα. עברית. العربية لغة جميلة. हिन्दी भाषा।',
  '日本語の文章です。中文句子。한국어 문장입니다. ภาษาไทย. Tiếng Việt có dấu.',
  'Code: `const x = a[i] ?? 0;` // 0x1F\r\n\tindented\n\n  two spaces   three',
  'Emoji 👍🏽 and flags 🇯🇵, math ∑ x² ≤ √2, fractions ½ ⅓, digits ٣٤ ๓๔.',
].join('\n');

const corpus = [...variedTexts, ...multilingual.split('\n'), ...variedTexts.map((t) => t.toLowerCase())];
const vocabularies: Record<string, () => Vocabulary> = {
  'BPE gpt-2': () => trainBpe(corpus, 700, [endOfText], 'gpt-2'),
  'BPE llama-bpe (Llama 3)': () => trainBpe(corpus, 700, [endOfText], 'llama-bpe'),
  'BPE qwen2': () => trainBpe(corpus, 700, [endOfText], 'qwen2'),
  'BPE smollm': () => trainBpe(corpus, 700, [endOfText], 'smollm'),
  'SentencePiece (llama)': () => trainSpmVocab(corpus, 900),
};

describe.each(Object.keys(vocabularies))('%s tokenizer vs llama.cpp', (name) => {
  it('gives llama.cpp’s token ids on multilingual text, the varied corpus and fuzzed strings, and decodes back', async () => {
    const vocab = vocabularies[name]!();
    const path = join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
    const cfg = tinyConfig({ vocabSize: vocab.tokens.length, contextLength: 64 });
    const bytes = baseModelToGguf(initLlamaWeights(cfg, 1), vocab, { name });
    writeFileSync(path, bytes);
    // The vocabulary as the engine reads it back from the file.
    const tok = createTokenizer(baseModelFromGguf(bytes).vocab);
    const runtime = await createLlamaRuntime({ modelPath: path, threads: 1 });
    try {
      const texts = [multilingual, ...variedTexts, ...fuzzStrings(200, 7)];
      const differing = texts
        .map((text) => ({ text, ours: tok.encode(text), theirs: runtime.tokenize(text) }))
        .filter((r) => JSON.stringify(r.ours) !== JSON.stringify(r.theirs));
      expect(differing).toEqual([]);
      // Not a degenerate vocabulary: the multilingual text takes fewer tokens than it has UTF-8 bytes.
      expect(tok.encode(multilingual).length).toBeLessThan(new TextEncoder().encode(multilingual).length * 0.8);
      for (const text of [multilingual, ...variedTexts]) expect(tok.decode(tok.encode(text))).toBe(text);
    } finally {
      await runtime.dispose();
    }
  });
});
