/**
 * The served model's tokenizer as a span tokenizer: spans are traced in the token ids the model produced, and the
 * index records the vocabulary's hash so that an index built for another model is refused.
 */
import { readFileSync } from 'node:fs';
import { BaseError, errnoCode, sha256 } from '../core/index.js';
import { baseModelFromGguf, bundledBaseModel, createTokenizer, type Vocabulary } from '../engine/index.js';
import type { SpanTokenizer } from './span/index.js';

export function spanTokenizerOf(vocab: Vocabulary): SpanTokenizer {
  const t = createTokenizer(vocab);
  // Byte-level BPE with GPT-2's pre-tokenizer is named by tokens and merges alone (ids recorded before other
  // tokenizers existed stay valid); any other tokenizer's settings are part of its name.
  const { model, pre, scores, addSpacePrefix } = vocab;
  const settings = model || pre ? [model ?? 'gpt2', pre ?? null, scores ?? null, addSpacePrefix ?? null] : [];
  const digest = Buffer.from(sha256(JSON.stringify([vocab.tokens, vocab.merges, ...settings]))).toString('hex');
  return {
    id: `bpe-sha256-${digest.slice(0, 32)}`,
    encode: (text) => t.encode(text),
    decode: (ids) => t.decode(ids),
  };
}

/** The tokenizer of a GGUF base model (`bundled` names the model shipped in models/). */
export function modelSpanTokenizer(model: string): SpanTokenizer {
  const path = model === 'bundled' ? bundledBaseModel.path : model;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new BaseError('NOT_FOUND', `Cannot read model ${path}: ${errnoCode(e) ?? String(e)}`, {
      details: { file: path, field: 'model' },
    });
  }
  return spanTokenizerOf(baseModelFromGguf(bytes).vocab);
}
