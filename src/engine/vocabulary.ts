/** What a tokenizer is made of, shared by the BPE (tokenizer.ts) and SentencePiece (tokenizer-spm.ts) encoders. */
import { BaseError } from '../core/index.js';

/** llama.cpp token types. */
export const tokenType = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

export interface Vocabulary {
  /**
   * llama.cpp's `tokenizer.ggml.model`: `gpt2`, byte-level BPE (the default), or `llama`, SentencePiece with byte
   * fallback (tokenizer-spm.ts).
   */
  model?: 'gpt2' | 'llama';
  /** The BPE pre-tokenizer (`tokenizer.ggml.pre`), one of `preTokenizers`; default `gpt-2`. */
  pre?: string;
  /** Token strings (BPE: in byte-symbol form; SentencePiece: with ▁ for spaces); index = id. */
  tokens: string[];
  tokenTypes: number[];
  /** BPE merges in rank order, each "left right" (none for SentencePiece). */
  merges: string[];
  /** SentencePiece: each token's score (the higher, the earlier it is merged). */
  scores?: number[];
  /** SentencePiece: a space is put before the text (`tokenizer.ggml.add_space_prefix`, default true). */
  addSpacePrefix?: boolean;
  bosId: number;
  eosId: number;
}

export interface Tokenizer {
  readonly vocab: Vocabulary;
  /** Token ids of `text`, no BOS/EOS; special-token text is encoded literally (llama.cpp's tokenize(text, false)). */
  encode(text: string): number[];
  /** The text of `ids`; control tokens decode to nothing. */
  decode(ids: readonly number[]): string;
}

/** The text of token `id`; INVALID_ARGUMENT for an id outside the vocabulary. */
export function tokenText(vocab: Vocabulary, id: number): string {
  const t = vocab.tokens[id];
  if (t === undefined) {
    throw new BaseError('INVALID_ARGUMENT', `Unknown token id ${id}`, {
      details: { id, vocabSize: vocab.tokens.length },
    });
  }
  return t;
}
