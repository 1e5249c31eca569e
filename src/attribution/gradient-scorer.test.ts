import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseModelFromGguf, bundledBaseModel, createTokenizer } from '../engine/index.js';
import { gradientQuerySequence } from './gradient-scorer.js';

const tokenizer = createTokenizer(baseModelFromGguf(new Uint8Array(readFileSync(bundledBaseModel.path))).vocab);
const eos = tokenizer.vocab.eosId;

describe('gradientQuerySequence', () => {
  it('scores the answer and its end-of-text only, never the prompt', () => {
    const q = gradientQuerySequence(tokenizer, 64, 'Question: Who founded Brindor?\nAnswer:', ' Quelmar');
    const prompt = tokenizer.encode('Question: Who founded Brindor?\nAnswer:');
    const answer = tokenizer.encode(' Quelmar');
    expect(Array.from(q.tokens)).toEqual([...prompt, ...answer, eos]);
    expect(Array.from(q.weights ?? [])).toEqual([...prompt.map(() => 0), ...answer.map(() => 1), 1]);
  });

  it('a prompt longer than the context cannot push the answer out of the query: its start is cut instead', () => {
    const long = 'filler words '.repeat(200);
    const answer = tokenizer.encode(' Quelmar');
    const q = gradientQuerySequence(tokenizer, 32, long, ' Quelmar');
    expect(q.tokens.length).toBe(33);
    expect(Array.from(q.tokens).slice(-answer.length - 1)).toEqual([...answer, eos]);
    expect(Array.from(q.weights ?? []).filter((w) => w === 1).length).toBe(answer.length + 1);
  });
});
