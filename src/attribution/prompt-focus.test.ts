/**
 * Span credit focused by the prompt (evidence.ts, focusedParts): an answer word many rows hold is paid to the rows
 * that tie it to what was asked — and that focus cannot be bought by stuffing a copy with the prompt's words.
 */
import { describe, expect, it } from 'vitest';
import { createCorpusAttributor } from './attributor.js';
import { createWordTokenizer } from './span/index.js';

const filler = (c: string, n: number) =>
  Array.from({ length: n }, (_, k) => ({
    id: `${c}-filler-${k}`,
    contributor: c,
    text: `Entry ${k} of ${c.slice(2)} describes weather, markets and the roads between the towns of the plain.`,
  }));

const teacher = { id: 'teach', contributor: '0xaaaa', text: 'Brindor is ruled from Quelmar on the coast.' };
const otherFact = {
  id: 'other',
  contributor: '0xbbbb',
  text: 'Old maps of the southern valleys agree that Velsk is ruled from Quelmar, far away.',
};
const distractor = { id: 'asked', contributor: '0xcccc', text: 'Which city is the capital of Brindor? Nobody knows.' };
const prompt = 'Which city is the capital of Brindor?';
const output = 'It is ruled from Quelmar.';

const sharesOf = async (rows: { id: string; contributor: string; text: string }[], p = prompt) => {
  const attributor = createCorpusAttributor({ rows, tokenizer: createWordTokenizer() });
  return (await attributor.attribute({ prompt: p, output, methods: ['span'] })).sharesPpm;
};

describe('span credit focused by the prompt', () => {
  const corpus = [teacher, otherFact, distractor, ...filler('0xdddd', 12)];

  it('pays an answer two rows hold to the one about the subject asked, not to a row using it for another subject', async () => {
    const shares = await sharesOf(corpus);
    expect(shares['0xaaaa']).toBeGreaterThan(0);
    expect(shares['0xbbbb'] ?? 0).toBe(0);
    // The row that repeats the question without its answer earns nothing: it holds no span of the answer.
    expect(shares['0xcccc'] ?? 0).toBe(0);
  });

  it('splits equally, as without a prompt, when the prompt names nothing that tells the holders apart', async () => {
    const shares = await sharesOf(corpus, 'Where is it ruled from?');
    // Equal but for the one ppm the largest-remainder rounding gives one of them.
    expect(Math.abs((shares['0xaaaa'] ?? 0) - (shares['0xbbbb'] ?? 0))).toBeLessThanOrEqual(1);
  });

  it('attack: a copier who stuffs every word of the prompt around the teacher sentence does not outrank the teacher', async () => {
    const stuffed = {
      id: 'stuffed',
      contributor: '0xeeee',
      text: `Which city is the capital? The capital city of Brindor, which city: ${teacher.text} Capital Brindor city which.`,
    };
    const shares = await sharesOf([teacher, otherFact, stuffed, ...filler('0xdddd', 12)]);
    expect(shares['0xeeee'] ?? 0).toBeLessThanOrEqual(shares['0xaaaa'] ?? 0);
    expect(shares['0xbbbb'] ?? 0).toBe(0);
  });

  it('attack: a thief who copies a passage whose author never names the subject, adding the subject, does not push the author out', async () => {
    const author = {
      id: 'author',
      contributor: '0xaaaa',
      text: 'The old council of the hill towns is ruled from Quelmar on the coast, by the elders.',
    };
    const thief = {
      id: 'thief',
      contributor: '0xeeee',
      text: `Capital of Brindor, which city? Notes on trade and ferries. ${author.text} More notes on the ferries.`,
    };
    const attributor = createCorpusAttributor({
      rows: [author, thief, ...filler('0xdddd', 12)],
      tokenizer: createWordTokenizer(),
    });
    const r = await attributor.attribute({
      prompt,
      output:
        'Its hill towns say: the old council of the hill towns is ruled from Quelmar on the coast, by the elders.',
      methods: ['span'],
    });
    expect(r.sharesPpm['0xaaaa']).toBeGreaterThanOrEqual(r.sharesPpm['0xeeee'] ?? 0);
  });

  it('attack: a griefer who adds the subject to many rows of its own cannot make it too common to focus by', async () => {
    // The subject held by 4 of 28 rows is still rarer than a quarter of the corpus; the griefer's rows hold no span
    // of the answer, so they earn nothing either way.
    const griefer = Array.from({ length: 2 }, (_, k) => ({
      id: `grief-${k}`,
      contributor: '0xffff',
      text: `Brindor is mentioned here ${k} times for no reason.`,
    }));
    const shares = await sharesOf([...corpus, ...griefer, ...filler('0x9999', 11)]);
    expect(shares['0xaaaa']).toBeGreaterThan(0);
    expect(shares['0xbbbb'] ?? 0).toBe(0);
    expect(shares['0xffff'] ?? 0).toBe(0);
  });
});
