/**
 * A small SentencePiece-style vocabulary for tests: <unk>, <s>, </s>, the 256 byte tokens, every character of the
 * corpus, then its most frequent word pieces (▁ for spaces), each scored by rank. Not SentencePiece's training —
 * any scored vocabulary exercises the tokenizer, which is what tests compare with llama.cpp.
 */

import { SPACE_MARK } from '../tokenizer-spm.js';
import { tokenType, type Vocabulary } from '../vocabulary.js';

export function trainSpmVocab(corpus: readonly string[], size: number): Vocabulary {
  const tokens = ['<unk>', '<s>', '</s>'];
  const tokenTypes: number[] = [tokenType.unknown, tokenType.control, tokenType.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    tokenTypes.push(tokenType.byte);
  }
  const scores = tokens.map(() => 0);
  const chars = new Set<string>();
  const counts = new Map<string, number>();
  for (const text of corpus) {
    const escaped = ` ${text}`.replaceAll(' ', SPACE_MARK);
    for (const c of escaped) chars.add(c);
    for (const word of escaped.match(new RegExp(`${SPACE_MARK}?[^${SPACE_MARK}]+`, 'gu')) ?? []) {
      const cs = Array.from(word);
      for (let i = 0; i < cs.length; i++) {
        for (let n = 2; n <= 6 && i + n <= cs.length; n++) {
          const piece = cs.slice(i, i + n).join('');
          counts.set(piece, (counts.get(piece) ?? 0) + 1);
        }
      }
    }
  }
  const pieces = [...counts]
    .filter(([, c]) => c >= 2)
    .sort((a, b) => b[1] * Array.from(b[0]).length - a[1] * Array.from(a[0]).length || (a[0] < b[0] ? -1 : 1))
    .map(([p]) => p);
  const ordered = [...[...chars].sort(), ...pieces].slice(0, size - tokens.length);
  ordered.forEach((p, rank) => {
    tokens.push(p);
    tokenTypes.push(tokenType.normal);
    // Characters last (they only matter alone); pieces by rank. Integers: float32 scores compare as here.
    scores.push(Array.from(p).length === 1 ? -100_000 - rank : -rank);
  });
  return { model: 'llama', tokens, tokenTypes, merges: [], scores, bosId: 1, eosId: 2 };
}
