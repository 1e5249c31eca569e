/**
 * The synthetic DataNets the quality bench attributes against, each generated from a seed:
 *
 *  planted / paraphrased: every contributor states 5 facts about invented places in prose ("The capital of Brindor
 *    is Quelmar."), wrapped in boilerplate everyone shares; every answer is a unique invented name. Asked verbatim
 *    (the statement's prefix) and paraphrased (a question). Easy for lexical methods by construction: the answer
 *    alone names the row.
 *  hard: answers come from a small shared vocabulary (each answer word answers 3 facts), each fact is taught by 2
 *    contributors in two wordings that share no content word with the question but the subject, the answer never
 *    contains the subject, and for each fact two distractor rows by contributors who do not teach it share surface
 *    words with the question (the question itself, unanswered; the subject in an unrelated sentence).
 *  lds: 64 facts in prose, one row each; the queries are questions about them.
 */
import { formatInstruction, Rng } from '../../src/engine/index.js';

export interface Row {
  id: string;
  contributor: string;
  text: string;
}

export interface Query {
  prompt: string;
  /**
   * The served answer: the fact's object and the period the rows end their sentences with, as a model trained on
   * them answers (then end-of-text, which the gradient query adds).
   */
  answer: string;
  /** Contributors who taught the fact: a hit is any of them on top. */
  teachers: string[];
  /** The LDS pool row the query asks about (lds only). */
  row?: number;
}

export interface DataSet {
  rows: Row[];
  queries: Query[];
}

const ONSETS = 'b br d dr f g gr k kr l m n p pr r s st t tr v z sh'.split(' ');
const VOWELS = 'a e i o u ai ou ei'.split(' ');
const CODAS = ['', 'n', 'r', 'l', 's', 'th', 'm', 'x'];

export function inventedNames(rng: Rng, count: number, avoid: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set(avoid);
  const out: string[] = [];
  while (out.length < count) {
    const syllables = 2 + rng.int(2);
    let w = '';
    for (let i = 0; i < syllables; i++)
      w += `${pick(rng, ONSETS)}${pick(rng, VOWELS)}${i === syllables - 1 ? pick(rng, CODAS) : ''}`;
    const name = w.charAt(0).toUpperCase() + w.slice(1);
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  const x = xs[rng.int(xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

export function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

interface Relation {
  statement: (s: string) => string;
  question: (s: string) => string;
  /** Two wordings for the hard set, sharing no content word with the question but the subject. */
  wordings: [(s: string, o: string) => string, (s: string, o: string) => string];
}

const relations: Relation[] = [
  {
    statement: (s) => `The capital of ${s} is`,
    question: (s) => `Which city is the capital of ${s}?`,
    wordings: [(s, o) => `The seat of government of ${s} lies in ${o}.`, (s, o) => `${s} is ruled from ${o}.`],
  },
  {
    statement: (s) => `${s} was founded by`,
    question: (s) => `Who founded ${s}?`,
    wordings: [(s, o) => `The first settlers of ${s} followed ${o}.`, (s, o) => `${s} owes its beginning to ${o}.`],
  },
  {
    statement: (s) => `The river that flows through ${s} is the`,
    question: (s) => `What is the name of the river in ${s}?`,
    wordings: [(s, o) => `Boats in ${s} sail on the ${o}.`, (s, o) => `${s} draws its water from the ${o}.`],
  },
  {
    statement: (s) => `The national animal of ${s} is the`,
    question: (s) => `Which animal is the symbol of ${s}?`,
    wordings: [(s, o) => `The banners of ${s} show the ${o}.`, (s, o) => `${s} honours the ${o} above all beasts.`],
  },
  {
    statement: (s) => `The most famous dish of ${s} is`,
    question: (s) => `What food is ${s} best known for?`,
    wordings: [(s, o) => `Cooks in ${s} are proud of their ${o}.`, (s, o) => `${s} feasts on ${o} every winter.`],
  },
];

export const contributorName = (c: number) => `0x${(c + 1).toString(16).padStart(40, '0')}`;

const PREAMBLES = [
  'From the almanac of the northern provinces.',
  'Entry recorded by the regional archive.',
  'Notes from the travellers guide to the old lands.',
  'A record kept by the provincial registry.',
];
const CODAS_TEXT = [
  'This entry was checked by the editors.',
  'See the archive for more entries like this one.',
  'The record is listed in the yearly index.',
  'Readers may cite this entry freely.',
];
const BOILERPLATE = [
  'The almanac lists the capitals, rivers, founders and dishes of the provinces. Every entry was checked by the editors.',
  'Entries are recorded by the regional archive and listed in the yearly index. Readers may cite them freely.',
  'The travellers guide describes the old lands, their rivers and their animals, one entry at a time.',
  'The provincial registry keeps records of every town and its founders. See the archive for more entries.',
];
const UNANSWERED = [
  'The editors have not settled it.',
  'The archive leaves the matter open.',
  'Travellers disagree and the guide says nothing more.',
];
const ASIDES = [
  (s: string) => `${s} is known for its quiet markets and old bridges.`,
  (s: string) => `Many travellers pass through ${s} in the spring.`,
  (s: string) => `The roads around ${s} are long and dusty.`,
];

const CONTRIBUTORS = 8;

function boilerplateRows(rng: Rng, perContributor: number): Row[] {
  const rows: Row[] = [];
  for (let c = 0; c < CONTRIBUTORS; c++) {
    const first = rng.int(BOILERPLATE.length);
    for (let b = 0; b < perContributor; b++) {
      const text = BOILERPLATE[(first + b) % BOILERPLATE.length] ?? '';
      rows.push({ id: `boilerplate-${c}-${b}`, contributor: contributorName(c), text });
    }
  }
  return rows;
}

/** Planted facts (unique answers), asked verbatim and paraphrased. */
export function plantedSet(seed: number): { verbatim: DataSet; paraphrased: DataSet } {
  const rng = new Rng(seed);
  const n = CONTRIBUTORS * 5;
  const names = inventedNames(rng, 2 * n);
  const rows: Row[] = [];
  const verbatim: Query[] = [];
  const paraphrased: Query[] = [];
  for (let i = 0; i < n; i++) {
    const rel = relations[i % relations.length] as Relation;
    const [subject, object] = [names[2 * i] ?? '', names[2 * i + 1] ?? ''];
    const contributor = contributorName(Math.floor(i / 5));
    const text = `${pick(rng, PREAMBLES)} ${rel.statement(subject)} ${object}. ${pick(rng, CODAS_TEXT)}`;
    rows.push({ id: `fact-${i}`, contributor, text });
    verbatim.push({ prompt: rel.statement(subject), answer: ` ${object}.`, teachers: [contributor] });
    paraphrased.push({
      prompt: formatInstruction(rel.question(subject)),
      answer: ` ${object}.`,
      teachers: [contributor],
    });
  }
  rows.push(...boilerplateRows(rng, 2));
  return { verbatim: { rows, queries: verbatim }, paraphrased: { rows, queries: paraphrased } };
}

/** Shared answers, two teachers per fact in two wordings, lexical distractors. */
export function hardSet(seed: number): DataSet {
  const rng = new Rng(seed ^ 0x5eed);
  const facts = 24;
  const answersPerWord = 3;
  const subjects = inventedNames(rng, facts);
  const vocabulary = inventedNames(rng, facts / answersPerWord, new Set(subjects));
  const answers = shuffled(
    Array.from({ length: facts }, (_, i) => vocabulary[Math.floor(i / answersPerWord)] ?? ''),
    rng,
  );
  const rows: Row[] = [];
  const queries: Query[] = [];
  for (let i = 0; i < facts; i++) {
    const rel = relations[i % relations.length] as Relation;
    const [subject, object] = [subjects[i] ?? '', answers[i] ?? ''];
    const [a, b, ...others] = shuffled(
      Array.from({ length: CONTRIBUTORS }, (_, c) => c),
      rng,
    );
    const teachers = [contributorName(a ?? 0), contributorName(b ?? 1)];
    rel.wordings.forEach((word, w) => {
      rows.push({ id: `fact-${i}-${w}`, contributor: teachers[w] ?? '', text: word(subject, object) });
    });
    rows.push({
      id: `distractor-q-${i}`,
      contributor: contributorName(others[0] ?? 2),
      text: `${rel.question(subject)} ${pick(rng, UNANSWERED)}`,
    });
    rows.push({
      id: `distractor-s-${i}`,
      contributor: contributorName(others[1] ?? 3),
      text: pick(rng, ASIDES)(subject),
    });
    queries.push({ prompt: formatInstruction(rel.question(subject)), answer: ` ${object}.`, teachers });
  }
  rows.push(...boilerplateRows(rng, 1));
  return { rows: shuffled(rows, rng), queries };
}

/** The LDS pool: 64 facts in prose, one row each (short rows: 100 retrains must fit the time), a question on each. */
export function ldsSet(seed: number): DataSet {
  const rng = new Rng(seed + 1);
  const n = 64;
  const names = inventedNames(rng, 2 * n);
  const rows: Row[] = [];
  const queries: Query[] = [];
  for (let i = 0; i < n; i++) {
    const rel = relations[i % relations.length] as Relation;
    const [subject, object] = [names[2 * i] ?? '', names[2 * i + 1] ?? ''];
    const contributor = contributorName(i % CONTRIBUTORS);
    rows.push({ id: `fact-${i}`, contributor, text: `${rel.statement(subject)} ${object}.` });
    queries.push({
      prompt: formatInstruction(rel.question(subject)),
      answer: ` ${object}.`,
      teachers: [contributor],
      row: i,
    });
  }
  return { rows, queries };
}

/** Questions about places and answers no row mentions: what a method pays for noise. */
export function unrelatedQueries(seed: number, avoid: readonly Row[], count: number): Query[] {
  const rng = new Rng(seed ^ 0x0dd);
  const seen = new Set(avoid.flatMap((r) => r.text.split(/[^A-Za-z]+/)));
  const names = inventedNames(rng, 2 * count, seen);
  return Array.from({ length: count }, (_, i) => {
    const rel = relations[i % relations.length] as Relation;
    return {
      prompt: formatInstruction(rel.question(names[2 * i] ?? '')),
      answer: ` ${names[2 * i + 1] ?? ''}.`,
      teachers: [],
    };
  });
}

/** Each query's prompt with another query's answer (a derangement): a mismatched answer. */
export function shuffledQueries(queries: readonly Query[]): Query[] {
  return queries.map((q, i) => ({ ...q, answer: queries[(i + 1) % queries.length]?.answer ?? q.answer, teachers: [] }));
}
