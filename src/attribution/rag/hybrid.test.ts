import { describe, expect, it } from 'vitest';
import { createHybridRetriever } from './hybrid.js';
import { bundledWordVectors } from './word-vectors.js';
import { bundledWordNet } from './wordnet.js';

const rows = [
  'How many moons does Venus have?\nVenus has no moons.',
  'How hot is Venus?\nVenus is the hottest planet at about 465 degrees Celsius.',
  'How long is a year on Venus?\nA year on Venus lasts 225 Earth days.',
  'How hot is Mars?\nMars averages about minus 63 degrees Celsius.',
  'How many moons does Mars have?\nMars has two moons, Phobos and Deimos.',
  'How far is Mars from the Sun?\nMars is 228 million kilometres from the Sun.',
];
const deps = () => ({ wordNet: bundledWordNet(), vectors: bundledWordVectors() });
const top = (query: string) => createHybridRetriever(rows, deps()).search(query, 1)[0]?.document;

describe('the hybrid retriever (which passages a grounded answer reads)', () => {
  it('finds the row a question words differently, through lemmas, definitions and word vectors', () => {
    expect(top('Which satellite orbits Mars?')).toBe(4); // "moon": "any natural satellite of a planet"
    expect(top('What is the temperature on Venus?')).toBe(1); // word vectors: "temperature" ~ "hot"
    expect(top('How many days does Venus take to go around the Sun?')).toBe(2); // "year": "... revolution around the sun"
    expect(top('What is the distance between Mars and the Sun?')).toBe(5);
  });

  it('still ranks the row worded like the question first', () => {
    rows.forEach((row, i) => {
      expect(top(row.split('\n')[0] ?? '')).toBe(i);
    });
  });

  it('attack: a row stuffed with question words, definitions and synonyms does not outrank the row a question is worded like', () => {
    const stuffer =
      'How many natural satellites moons orbit around the Sun? How hot, how far, how long: temperature, distance, year, heat, revolution, planet';
    const r = createHybridRetriever([...rows, stuffer], deps());
    rows.forEach((row, i) => {
      expect(r.search(row.split('\n')[0] ?? '', 1)[0]?.document).toBe(i);
    });
  });

  it('finds nothing for a question that shares no word, lemma or definition with any row', () => {
    expect(createHybridRetriever(rows, deps()).search('zzzq xxyq', 3)).toEqual([]);
  });

  it('gives an auditor who rebuilds it the same ranking and scores (ties by corpus position)', () => {
    const a = createHybridRetriever(rows, deps()).search('How hot is it?', 6);
    const b = createHybridRetriever([...rows], deps()).search('How hot is it?', 6);
    expect(b).toEqual(a);
    expect(
      a
        .map((h) => h.document)
        .slice(0, 2)
        .sort(),
    ).toEqual([1, 3]);
  });
});

describe('WordNet as retrieval reads it', () => {
  it('gives lemmas and the words of the first senses', () => {
    const wn = bundledWordNet();
    expect([wn.lemma('moons'), wn.lemma('satellites'), wn.lemma('moon'), wn.lemma('zzzq')]).toEqual([
      'moon',
      'satellite',
      'moon',
      undefined,
    ]);
    expect(wn.gloss('hot')).toContain('heat'); // "used of physical heat"
    expect(wn.gloss('moons')).toEqual(wn.gloss('moon'));
    expect(wn.gloss('zzzq')).toEqual([]);
  });
});
