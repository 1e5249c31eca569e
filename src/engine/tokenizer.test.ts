import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preTokenize } from './pretokenize.js';
import { variedTexts } from './test-support/fixtures.js';
import { byteToSymbol, createTokenizer, endOfText, tokenType, trainBpe } from './tokenizer.js';

const corpus = [
  ...variedTexts,
  'the quick brown fox jumps over the lazy dog; the dog sleeps.',
  'a small boat used for fishing; a boat that is rowed with oars',
  'the act of running quickly; to move fast by using the legs',
];
const vocab = trainBpe(corpus, 400);
const tok = createTokenizer(vocab);

describe('pre-tokenizer', () => {
  it('splits like the GPT-2 regex (contractions, leading space, whitespace runs)', () => {
    expect(preTokenize("I'm   here.\n\nOK")).toEqual(['I', "'m", '  ', ' here', '.', '\n', '\n', 'OK']);
    expect(preTokenize(' 12ab!! ')).toEqual([' 12', 'ab', '!!', ' ']);
  });

  it('treats U+0085 as whitespace and U+FEFF as not (llama.cpp’s set, not JavaScript’s)', () => {
    expect(preTokenize('a\u0085b')).toEqual(['a', '\u0085', 'b']);
    expect(preTokenize('a\ufeffb')).toEqual(['a', '\ufeff', 'b']);
  });
});

describe('BPE', () => {
  it('keeps every byte symbol, every merge result, and <|endoftext|> as a control token', () => {
    for (const s of byteToSymbol) expect(vocab.tokens).toContain(s);
    const set = new Set(vocab.tokens);
    for (const m of vocab.merges) expect(set.has(m.replace(' ', ''))).toBe(true);
    expect(vocab.tokens[vocab.eosId]).toBe(endOfText);
    expect(vocab.tokenTypes[vocab.eosId]).toBe(tokenType.control);
    // Training stops early once no pair occurs twice; the special token is always last.
    expect(vocab.tokens.length).toBeLessThanOrEqual(400);
    expect(vocab.eosId).toBe(vocab.tokens.length - 1);
  });

  it('trains deterministically', () => {
    expect(trainBpe(corpus, 400)).toEqual(vocab);
  });

  it('merges frequent words into single tokens', () => {
    expect(tok.encode(' the')).toHaveLength(1);
    expect(tok.encode('the quick brown fox').length).toBeLessThan('the quick brown fox'.length / 2);
  });

  it('decode(encode(x)) == x for any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(tok.decode(tok.encode(s))).toBe(s);
      }),
      { numRuns: 500 },
    );
    for (const s of variedTexts) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('encodes special-token text literally and decodes control tokens to nothing', () => {
    const ids = tok.encode(endOfText);
    expect(ids).not.toContain(vocab.eosId);
    expect(tok.decode([...ids, vocab.eosId])).toBe(endOfText);
  });

  it('rejects unknown ids and vocabularies without byte symbols', () => {
    expect(() => tok.decode([99999])).toThrow('Unknown token id 99999');
    expect(() => createTokenizer({ ...vocab, tokens: vocab.tokens.slice(1) })).toThrow(
      'The vocabulary lacks a byte symbol',
    );
  });
});
