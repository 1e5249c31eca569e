import { describe, expect, it } from 'vitest';
import { terms } from './terms.js';

describe('retrieval terms', () => {
  it('lower-cases words and numbers and drops stop words, as before', () => {
    expect(terms('The Violins of Cremona, built in 1715!')).toEqual(['violins', 'cremona', 'built', '1715']);
  });

  it('splits Chinese, which has no spaces, into character bigrams instead of one sentence-long word', () => {
    expect(terms('河流把淡水带到大海')).toEqual(['河流', '流把', '把淡', '淡水', '水带', '带到', '到大', '大海']);
  });

  it('gives Japanese kana and kanji bigrams and keeps Latin words whole in mixed text', () => {
    expect(terms('東京は日本の首都 Tokyo')).toEqual(['東京', '京は', 'は日', '日本', '本の', 'の首', '首都', 'tokyo']);
    expect(terms('GPT模型')).toEqual(['gpt', '模型']);
    expect(terms('水')).toEqual(['水']);
  });

  it('lets a Chinese question retrieve the passage that shares its words', () => {
    const passage = new Set(terms('长江是中国最长的河流'));
    const hits = terms('中国最长的河流是哪条？').filter((t) => passage.has(t));
    expect(hits.length).toBeGreaterThanOrEqual(5);
  });
});
