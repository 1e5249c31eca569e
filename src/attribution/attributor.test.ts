import { describe, expect, it } from 'vitest';
import { errorOf, rejectionOf } from '../../test/fixtures/errors.js';
import { createCorpusAttributor, parseMethods } from './attributor.js';
import { parseCorpus } from './corpus-file.js';
import { checkAttribution, serializeAttribution } from './result.js';
import { createWordTokenizer } from './span/index.js';

const who = ['0xaaaa', '0xbbbb', '0xcccc'];
const facts = [
  'The lighthouse keeper of Varnholm counted exactly forty-two gulls every dawn.',
  'Copper kettles from Ostrava were traded for saffron at the autumn fair.',
  'Marguerite repaired violins with glue made from quince seeds.',
];
const rows = who.flatMap((c, i) => [
  ...Array.from({ length: 12 }, (_, k) => ({
    id: `b${i}-${k}`,
    contributor: c,
    text: `This entry was contributed to the shared archive. Entry number ${k} follows the usual format.`,
  })),
  { id: `f${i}`, contributor: c, text: facts[i] as string },
]);

describe('corpus attributor', () => {
  const attributor = createCorpusAttributor({ rows, tokenizer: createWordTokenizer() });

  it('names the contributor of a planted sentence by span, rag and both, with shares summing to a million', async () => {
    for (const methods of [['span'], ['rag'], ['span', 'rag']] as const) {
      const r = await attributor.attribute({
        output: 'Today: Marguerite repaired violins with glue made from quince seeds.',
        methods,
      });
      checkAttribution(r);
      const top = Object.entries(r.sharesPpm).sort((a, b) => b[1] - a[1])[0];
      expect(top?.[0]).toBe('0xcccc');
      expect(r.contributions[0]?.id).toBe('f2');
      expect(r.methods).toEqual(methods);
    }
  });

  it('leaves absent text unattributed, and pays templated boilerplate to its earliest row only (first come)', async () => {
    const absent = await attributor.attribute({
      output: 'Purple elephants compose sonatas on Neptune.',
      methods: ['span'],
    });
    expect(absent.unattributedPpm).toBe(1_000_000);
    const boiler = await attributor.attribute({
      output: 'This entry was contributed to the shared archive.',
      methods: ['span'],
    });
    // The 36 boilerplate rows differ by one number: near-identical, so the 35 later ones are copies of b0-0.
    expect(boiler.contributions.map((c) => c.id)).toEqual(['b0-0']);
  });

  it('is byte-identical on a rerun and on a fresh attributor', async () => {
    const input = {
      output: 'Copper kettles from Ostrava were traded.',
      prompt: 'What did Ostrava trade?',
      methods: ['span', 'rag'] as const,
    };
    const a = serializeAttribution(await attributor.attribute({ ...input, methods: [...input.methods] }));
    const again = createCorpusAttributor({ rows: [...rows], tokenizer: createWordTokenizer() });
    expect(serializeAttribution(await again.attribute({ ...input, methods: [...input.methods] }))).toBe(a);
    expect(a).toContain('"0xbbbb"');
  });

  it('refuses what it cannot do, saying why', async () => {
    expect((await rejectionOf(attributor.attribute({ output: 'x', methods: ['gradient'] }))).message).toBe(
      'The gradient method needs a model with stored per-example gradients (pass --training-receipt CID of the model)',
    );
    expect((await rejectionOf(attributor.attribute({ output: 'x'.repeat(100_001), methods: ['span'] }))).message).toBe(
      'output has 100001 characters; attribution takes at most 100000',
    );
    expect(errorOf(() => parseMethods('span,lexical')).message).toBe(
      'Unknown attribution method "lexical" (expected one of span, gradient, rag, all)',
    );
    expect(errorOf(() => createCorpusAttributor({ rows: [], tokenizer: createWordTokenizer() })).message).toBe(
      'Cannot attribute against an empty corpus',
    );
  });
});

describe('parseCorpus', () => {
  it('names the file, line and field of a bad row', () => {
    const good = '{"id":"a","contributor":"0x1","text":"hello"}';
    expect(errorOf(() => parseCorpus(`${good}\n{"id":"b","text":"x"}\n`, 'c.jsonl')).message).toBe(
      'c.jsonl:2: field "contributor" is missing',
    );
    expect(errorOf(() => parseCorpus(`${good}\n\n${good}`, 'c.jsonl')).message).toBe(
      'c.jsonl:3: id "a" already used on line 1',
    );
    expect(errorOf(() => parseCorpus('{"id":', 'c.jsonl')).message).toMatch(/^c\.jsonl:1: not valid JSON/);
    expect(errorOf(() => parseCorpus('\n\n', 'c.jsonl')).message).toBe('c.jsonl: the corpus is empty (no JSON lines)');
    expect(parseCorpus(`${good}\n`, 'c.jsonl')).toEqual([{ id: 'a', contributor: '0x1', text: 'hello' }]);
  });
});
