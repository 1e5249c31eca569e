import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../test/fixtures/errors.js';
import { buildSpanIndexFromTexts, createWordTokenizer, spanIndexFromData } from './index.js';

const tokenizer = createWordTokenizer();
function indexOf(texts: [string, string][]) {
  const documents = texts.map(([contributor, text], i) => ({ contributionId: `d${i}`, contributor, text }));
  return spanIndexFromData(buildSpanIndexFromTexts({ documents, tokenizer }), tokenizer);
}
const payees = (credit: { tokens: ({ parts: Map<number, number> } | undefined)[] }) =>
  credit.tokens.map((t) => [...(t?.parts.keys() ?? [])]);

describe('span credit', () => {
  it('a longer copy does not push the shorter original out: every document holding a qualifying span shares it', async () => {
    const index = indexOf([
      ['alice', 'Quiet herons fish the amber marsh at dusk'],
      ['bob', 'On some evenings quiet herons fish the amber marsh at dusk again'],
    ]);
    const credit = await index.creditText('quiet herons fish the amber marsh at dusk again');
    // "quiet" is lower-case only in bob's text; from "herons" on both qualify until "again", which only bob holds.
    expect(payees(credit)).toEqual([[1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [0, 1], [1]]);
  });

  it('a later near-identical copy earns nothing for what its original holds, but keeps the word it added', async () => {
    const index = indexOf([
      ['alice', 'Quiet herons fish the amber marsh at dusk'],
      ['mallory', 'Quiet herons fish the amber marsh at dusk daily'],
    ]);
    const credit = await index.creditText('Quiet herons fish the amber marsh at dusk daily');
    expect(payees(credit)).toEqual([...Array.from({ length: 8 }, () => [0]), [1]]);
    expect((await index.copies()).originalOf(1)).toBe(0);
  });

  it('matches spans inside Chinese and Japanese text, one token per character (tokenizer v2)', async () => {
    expect(tokenizer.id).toBe('word-fnv1a-mod65535-v2');
    expect(Array.from(tokenizer.encode('河流把泥沙带到海里。'))).toHaveLength(10);
    const index = indexOf([
      ['alice', '黄河每年把大量泥沙带到渤海。'],
      ['bob', '東京の桜は三月の終わりに咲きます。'],
    ]);
    const zh = await index.creditText('据说黄河把大量泥沙带到渤海');
    expect(new Set(payees(zh).flat())).toEqual(new Set([0]));
    const ja = await index.creditText('桜は三月の終わりに咲く');
    expect(new Set(payees(ja).flat())).toEqual(new Set([1]));
  });

  it('refuses bad settings, naming the option', async () => {
    const index = indexOf([['alice', 'one two three four']]);
    expect((await rejectionOf(index.credit([1, 2, 3], { maxSpanContributors: 0 }))).message).toBe(
      'Span credit option maxSpanContributors must be a positive integer',
    );
  });
});
