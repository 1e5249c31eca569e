/** Shared fixtures for the engine's tests: a tiny model config, deterministic batches, varied text. */
import type { TokenBatch } from '../batch.js';
import type { LlamaConfig } from '../config.js';
import { Rng } from '../rng.js';

export function tinyConfig(overrides: Partial<LlamaConfig> = {}): LlamaConfig {
  return {
    vocabSize: 320,
    dim: 32,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    ffnDim: 64,
    contextLength: 32,
    ropeTheta: 10000,
    normEps: 1e-5,
    tieEmbeddings: false,
    ...overrides,
  };
}

/** A batch of pseudo-random tokens; with `pattern`, targets follow a learnable rule (t+1 mod vocab). */
export function randomBatch(
  vocabSize: number,
  batchSize: number,
  seqLen: number,
  seed: number,
  pattern = true,
): TokenBatch {
  const rng = new Rng(seed);
  const inputs = new Int32Array(batchSize * seqLen);
  const targets = new Int32Array(batchSize * seqLen);
  for (let i = 0; i < inputs.length; i++) {
    inputs[i] = rng.int(vocabSize);
    targets[i] = pattern ? (inputs[i]! + 1) % vocabSize : rng.int(vocabSize);
  }
  return { batchSize, seqLen, inputs, targets };
}

/** Text that exercises the pre-tokenizer: contractions, digits, punctuation runs, odd whitespace, scripts, emoji. */
export const variedTexts: string[] = [
  'Hello, world! This is a test.',
  'a person who is a member of the staff; "she was the best teacher in the school"',
  'Numbers: 0 1 12 123 1234 12345 3.14159 -42 1e10 0x1F',
  'Punctuation!!! ??? ... --- (parens) [brackets] {braces} <angles> "quotes" \'single\' `back`',
  "Contractions: I'm you're he's we've they'll I'd don't CAN'T it'S",
  'Whitespace:  two   three    four\ttab\t\ttabs\n\nnewlines\n \n  \n\r\nCRLF  ',
  '   leading spaces and trailing   ',
  'Unicode: café naïve façade Ünïcödé 日本語のテキスト 中文 한국어 Ελληνικά русский',
  'Emoji: 😀 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨',
  'Mixed: a1b2c3 foo_bar foo-bar foo.bar@example.com https://example.org/path?q=1&r=2',
  '\u00a0nbsp\u00a0and\u2009thin\u3000ideographic\u0085nel\ufeffbom',
  'Math: ∑ x² ≤ ∞ ± √2 ½ ① Ⅻ ٣ ๓',
  '<|endoftext|> special text is literal',
  "''' '' ' 's 'S 've 'll 'd 'm 't",
];

/** Seeded random strings over a pool of tricky pieces (for tokenizer agreement fuzzing). */
export function fuzzStrings(count: number, seed: number): string[] {
  const pool = [
    ' ',
    '  ',
    '\n',
    '\t',
    "'",
    's',
    'a',
    'Z',
    '7',
    '!',
    '.',
    'é',
    '日',
    '😀',
    '\u00a0',
    '\u2028',
    '\u0085',
  ];
  pool.push('\ufeff', 'll', 're', 'ä', '١', '\r\n', '-', 'the', ' of', 'ing');
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    let s = '';
    const n = 1 + rng.int(30);
    for (let j = 0; j < n; j++) s += pool[rng.int(pool.length)]!;
    return s;
  });
}

/**
 * Rewrites the ggml type of tensor `name` in a GGUF file (to test types the writer does not produce). The
 * tensor info is `u64 name length | name | u32 n_dims | u64 ne[n_dims] | u32 type | u64 offset`; the last
 * occurrence of the name is the tensor info (metadata comes first).
 */
export function patchTensorType(bytes: Uint8Array, name: string, type: number, nDims: number): Uint8Array {
  const out = bytes.slice();
  const needle = Buffer.from(name);
  const at = Buffer.from(out).lastIndexOf(needle);
  if (at < 0) throw new Error(`no tensor ${name}`);
  new DataView(out.buffer).setUint32(at + needle.length + 4 + 8 * nDims, type, true);
  return out;
}
