/**
 * Six ways to game span payment (issue 12), each a small corpus and an answer, run through the production
 * attributor (`createCorpusAttributor` with `attributionTraceOptions`) by span alone and by span and RAG. A case
 * holds when its outcome holds for both method sets. The tests assert every case holds; the demo's attribution
 * stage runs them with the node's tokenizer and reports `gamingCasesHeld`.
 *
 * Shares are of the answer's whole pool (1,000,000 ppm). Rows are in contribution order: the attacker's rows come
 * after the victim's.
 */
import { createCorpusAttributor } from './attributor.js';
import type { CorpusRow } from './corpus-file.js';
import type { AttributionMethod, AttributionResult } from './result.js';
import type { SpanTokenizer } from './span/index.js';

export interface GamingCaseResult {
  name: string;
  held: boolean;
  /** The shares (ppm) the outcome was judged on, per method set ("span", "span+rag"). */
  figures: Record<string, number>;
}

const methodSets: readonly (readonly AttributionMethod[])[] = [['span'], ['span', 'rag']];
/** Corpus sizes the shared-line and generic-sentence cases must hold in. */
export const gamingCorpusSizes = [20, 50, 100, 200] as const;

const towns = ['Brakmoor', 'Celvany', 'Dunmarrow', 'Eskelin', 'Fjorvik', 'Gallowmere', 'Hestra', 'Illowen'];
const trades = ['weaves baskets', 'brews cider', 'mends nets', 'carves spoons', 'bakes rye bread', 'dyes wool'];
const goods = ['willow', 'pear', 'hemp', 'birch', 'barley', 'madder root', 'flax', 'chestnut', 'heather'];
const seasons = ['in spring', 'before the thaw', 'after harvest', 'each winter', 'on market days'];
/** Stock phrases a third of the rows each end with: the corpus's common words. */
const stock = [
  'as the old records of the valley show',
  'as most of the neighbours would tell you',
  'according to the parish ledger of that year',
];

/** Ordinary rows by distinct contributors: what any DataNet holds around the rows a case is about. */
export function fillerRows(count: number, from = 0): CorpusRow[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const pick = <T>(xs: readonly T[], salt: number) => xs[(i * salt + salt) % xs.length] as T;
    return {
      id: `filler-${i}`,
      contributor: `filler-${i}`,
      text: `Resident ${i + 1} of ${pick(towns, 3)} ${pick(trades, 5)} from ${pick(goods, 7)} ${pick(seasons, 11)}, ${stock[i % stock.length]}.`,
    };
  });
}

const VICTIM_SENTENCE = 'The lighthouse keeper of Varnholm counted forty-two gulls on the northern pier';
const victim = (text = `${VICTIM_SENTENCE}.`): CorpusRow => ({ id: 'victim', contributor: 'victim', text });

type Attribute = (
  rows: readonly CorpusRow[],
  output: string,
  methods: readonly AttributionMethod[],
) => Promise<AttributionResult>;

const share = (r: AttributionResult, who: string) => r.sharesPpm[who] ?? 0;
const label = (methods: readonly AttributionMethod[]) => methods.join('+');

interface GamingCase {
  name: string;
  run(attribute: Attribute): Promise<GamingCaseResult>;
}

/** One corpus and answer of a case; `judge` gives the figure reported and whether the outcome held. */
interface Variant {
  /** Prefix of its figures' names ('' for a case with one variant). */
  label: string;
  rows: readonly CorpusRow[];
  output: string;
  judge(r: AttributionResult): [number, boolean];
}

/** A case holds when every variant's outcome holds under every method set. */
function judgedCase(name: string, variants: readonly Variant[]): GamingCase {
  return {
    name,
    async run(attribute) {
      const figures: Record<string, number> = {};
      let held = true;
      for (const v of variants)
        for (const methods of methodSets) {
          const [figure, ok] = v.judge(await attribute(v.rows, v.output, methods));
          figures[[v.label, label(methods)].filter((x) => x !== '').join(', ')] = figure;
          held &&= ok;
        }
      return { name, held, figures };
    },
  };
}

/** A case with one corpus and answer. */
const perMethodSet = (name: string, rows: readonly CorpusRow[], output: string, judge: Variant['judge']) =>
  judgedCase(name, [{ label: '', rows, output, judge }]);

/** (a) The victim's sentence plus one more word of the answer: the thief gets at most half. */
const copyWithContext = perMethodSet(
  'copy-with-context thief gets at most 50%',
  [...fillerRows(12), victim(VICTIM_SENTENCE), { id: 'thief', contributor: 'thief', text: `${VICTIM_SENTENCE} daily` }],
  `${VICTIM_SENTENCE} daily.`,
  (r) => [share(r, 'thief'), share(r, 'thief') <= 500_000],
);

const griefersOwn = [
  'Storms broke the harbour wall in March.',
  'Fishermen mended their nets by lamplight.',
  'The ferry to Oskarsholm ran twice a week.',
  'Salt herring was packed in oak barrels.',
];
const victimKeepsHalf: Variant['judge'] = (r) => [share(r, 'victim'), share(r, 'victim') >= 500_000];

/**
 * (b) One row holding the victim's sentence eleven times — bare (a near-identical copy) or each time after a sentence
 * of the griefer's own (no copy: the sentence is then shared by two contributors): the victim keeps at least half.
 */
const elevenCopies = judgedCase('an 11-copy griefer cannot push the victim below 50%', [
  {
    label: '',
    rows: [
      ...fillerRows(12),
      victim(),
      {
        id: 'griefer',
        contributor: 'griefer',
        text: Array.from({ length: 11 }, () => `${VICTIM_SENTENCE}.`).join(' '),
      },
    ],
    output: `${VICTIM_SENTENCE}.`,
    judge: victimKeepsHalf,
  },
  {
    label: 'embedded in own text',
    rows: [
      ...fillerRows(12),
      victim(),
      {
        id: 'griefer',
        contributor: 'griefer',
        text: Array.from({ length: 11 }, (_, i) => `${griefersOwn[i % griefersOwn.length]} ${VICTIM_SENTENCE}.`).join(
          ' ',
        ),
      },
    ],
    output: `${VICTIM_SENTENCE}.`,
    judge: victimKeepsHalf,
  },
]);

/** (c) Three identical copies from one account, after the original: they earn nothing. */
const identicalCopies = perMethodSet(
  'copies identical to an earlier contribution earn nothing',
  [
    ...fillerRows(12),
    victim(),
    ...[1, 2, 3].map((n) => ({ id: `copy-${n}`, contributor: 'copier', text: `${VICTIM_SENTENCE}.` })),
  ],
  `${VICTIM_SENTENCE}.`,
  (r) => [share(r, 'copier'), share(r, 'copier') === 0 && share(r, 'victim') > 0],
);

const REFRAIN = 'Row the copper boat home to Tessaly Bay';
/** (d) A refrain sung eleven times in its own song: still credited to its writer (most of the answer). */
const refrain = perMethodSet(
  'a refrain repeated in one document is still credited',
  [
    ...fillerRows(12),
    {
      id: 'song',
      contributor: 'songwriter',
      text: `The tide was low and the nets were torn. ${Array.from({ length: 11 }, () => `${REFRAIN},`).join(' ')} and sleep.`,
    },
  ],
  `${REFRAIN}.`,
  (r) => [share(r, 'songwriter'), share(r, 'songwriter') >= 500_000],
);

const LICENSE = 'Released under the Open Riverbank Data License version 3, attribution required, no warranty given';

const habitats = ['marsh', 'dunes', 'moor', 'fen', 'estuary', 'heath', 'reedbed'];
const birds = [
  'herons',
  'curlews',
  'plovers',
  'egrets',
  'terns',
  'avocets',
  'godwits',
  'snipe',
  'lapwings',
  'rails',
  'grebes',
];

/** Each licensee's own text: slots of co-prime periods, so no two surveys share more than a few words in a row. */
function surveyOf(s: number): string {
  const at = <T>(xs: readonly T[]) => xs[s % xs.length] as T;
  return `Survey ${s + 1}: ${at(goods)} grows along the ${at(towns)} ${at(habitats)}, where ${s * 7 + 3} ${at(birds)} nest ${at(seasons)}.`;
}

/** Corpus of `size` rows in which `sharers` contributors each end their own text with the license line. */
function licenseCorpus(size: number, sharers: number): CorpusRow[] {
  const rows = fillerRows(size - sharers);
  const step = Math.max(1, Math.floor(size / sharers));
  for (let s = 0; s < sharers; s++)
    rows.splice(Math.min(rows.length, s * step), 0, {
      id: `licensed-${s}`,
      contributor: `licensee-${s}`,
      text: `${surveyOf(s)} ${LICENSE}.`,
    });
  return rows;
}

/** (e) A license line: ≤ 10% in total when ≥ 10 contributors share it, split equally when fewer do. */
const licenseLine = judgedCase(
  'a license line shared by >= 10 contributors pays <= 10%, by fewer is split equally',
  gamingCorpusSizes.flatMap((size) =>
    [3, 5, 9, 10, 11, 15].map((sharers) => ({
      label: `${size} rows, ${sharers} sharers`,
      rows: licenseCorpus(size, sharers),
      output: `${LICENSE}.`,
      judge: (r: AttributionResult): [number, boolean] => {
        const shares = Array.from({ length: sharers }, (_, s) => share(r, `licensee-${s}`));
        const total = shares.reduce((x, y) => x + y, 0);
        return [total, sharers >= 10 ? total <= 100_000 : Math.max(...shares) - Math.min(...shares) <= 1];
      },
    })),
  ),
);

const GENERIC = 'As the old records of the valley show, and as most of the neighbours would tell you, it was so.';

/** (f) A sentence made of the corpus's most common words and phrases: ≤ 10% in total. */
const genericSentence = judgedCase(
  'a generic sentence pays <= 10% in total',
  gamingCorpusSizes.map((size) => ({
    label: `${size} rows`,
    rows: fillerRows(size),
    output: GENERIC,
    judge: (r: AttributionResult): [number, boolean] => [1_000_000 - r.unattributedPpm, r.unattributedPpm >= 900_000],
  })),
);

export const gamingCases: readonly GamingCase[] = [
  copyWithContext,
  elevenCopies,
  identicalCopies,
  refrain,
  licenseLine,
  genericSentence,
];

/** Runs the six cases with `tokenizer` (the node's: the served model's) and the production attributor. */
export async function runGamingCases(tokenizer: SpanTokenizer): Promise<GamingCaseResult[]> {
  const attribute: Attribute = (rows, output, methods) =>
    createCorpusAttributor({ rows, tokenizer }).attribute({ output, methods: [...methods] });
  const out: GamingCaseResult[] = [];
  for (const c of gamingCases) out.push(await c.run(attribute));
  return out;
}
