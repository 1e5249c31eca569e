/**
 * The pre-tokenizer of llama.cpp's `tokenizer.ggml.pre = "gpt-2"` (LLAMA_VOCAB_PRE_TYPE_GPT2). llama.cpp runs a
 * hand-written scanner equivalent to
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * over code points, where \s is its own White_Space set (it includes U+0085 and excludes U+FEFF, unlike JS).
 * This mirrors that scanner, so our pieces — and therefore our token ids — are exactly llama.cpp's.
 */

/** llama.cpp's unicode whitespace set. */
const WHITESPACE = new Set<number>([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;

const END = 0;
const LETTERS = 1;
const NUMBERS = 2;
const SPACE = 3;
const OTHER = 4;
type CharClass = 0 | 1 | 2 | 3 | 4;

function classify(cp: number): CharClass {
  // The scanner tests whitespace before the letter/number categories.
  if (WHITESPACE.has(cp)) return SPACE;
  const ch = String.fromCodePoint(cp);
  if (LETTER.test(ch)) return LETTERS;
  if (NUMBER.test(ch)) return NUMBERS;
  return OTHER;
}

const APOSTROPHE = 0x27;
const code = (c: string): number => c.charCodeAt(0);
const [S, T, M, D, R, E, V, L] = [
  code('s'),
  code('t'),
  code('m'),
  code('d'),
  code('r'),
  code('e'),
  code('v'),
  code('l'),
];

/** Splits text into pieces exactly like llama.cpp's GPT-2 pre-tokenizer. */
export function preTokenize(text: string): string[] {
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  const classes = cps.map(classify);
  const n = cps.length;
  const at = (i: number): CharClass => (i < n ? classes[i]! : END);
  const pieces: string[] = [];
  let start = 0;
  let pos = 0;
  const emit = (end: number) => {
    if (end > start) pieces.push(String.fromCodePoint(...cps.slice(start, end)));
    start = end;
    pos = end;
  };
  while (pos < n) {
    const cp = cps[pos]!;
    // 's|'t|'re|'ve|'m|'ll|'d (lower case only, as in GPT-2)
    if (cp === APOSTROPHE && pos + 1 < n) {
      const a = cps[pos + 1]!;
      if (a === S || a === T || a === M || a === D) {
        emit(pos + 2);
        continue;
      }
      if (pos + 2 < n) {
        const b = cps[pos + 2]!;
        if ((a === R && b === E) || (a === V && b === E) || (a === L && b === L)) {
          emit(pos + 3);
          continue;
        }
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional single space (U+0020 only) then a run
    const leadingSpace = cp === 0x20;
    const cls = leadingSpace ? at(pos + 1) : at(pos);
    if (cls === LETTERS || cls === NUMBERS || cls === OTHER) {
      let p = pos + (leadingSpace ? 1 : 0);
      while (at(p) === cls) p++;
      emit(p);
      continue;
    }
    let ws = 0;
    while (at(pos + ws) === SPACE) ws++;
    if (ws > 1 && pos + ws < n) {
      emit(pos + ws - 1); // \s+(?!\S): leave the last space to prefix the next word
      continue;
    }
    if (ws > 0) {
      emit(pos + ws); // \s+
      continue;
    }
    emit(pos + 1);
  }
  return pieces;
}

/**
 * llama.cpp's whitespace set as a regex class (JS's `\s` differs: it includes U+FEFF and not U+0085), and
 * its negation; used for `\s` and `\S` in the pre-tokenizers below.
 */
const SPACE_CLASS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const s = `[${SPACE_CLASS}]`;
const notS = `[^${SPACE_CLASS}]`;
const CONTRACTIONS_ANY_CASE = "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]";

/** Llama 3's and Qwen2's pattern (they differ in how many digits make one piece). */
const llama3Like = (digits: string) =>
  new RegExp(
    `(?:${CONTRACTIONS_ANY_CASE})|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}${digits}| ?[^${SPACE_CLASS}\\p{L}\\p{N}]+[\\r\\n]*|${s}*[\\r\\n]+|${s}+(?!${notS})|${s}+`,
    'gu',
  );
const gpt2Without = new RegExp(
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${SPACE_CLASS}\\p{L}\\p{N}]+|${s}+(?!${notS})`,
  'gu',
);

/**
 * Splits each piece by `re`, keeping the text between matches as pieces too: llama.cpp's unicode_regex_split, which
 * runs a pre-tokenizer's expressions one after another, each over the pieces the previous one left.
 */
function splitEach(pieces: string[], re: RegExp): string[] {
  const out: string[] = [];
  for (const piece of pieces) {
    let last = 0;
    for (const m of piece.matchAll(re)) {
      if (m[0].length === 0) continue;
      if (m.index > last) out.push(piece.slice(last, m.index));
      out.push(m[0]);
      last = m.index + m[0].length;
    }
    if (last < piece.length) out.push(piece.slice(last));
  }
  return out;
}

export interface PreTokenizer {
  split(text: string): string[];
  /**
   * A whole piece that is a token is emitted as that token, without merging (llama.cpp's `ignore_merges`, set for
   * Llama 3's tokenizer).
   */
  ignoreMerges: boolean;
}

const llama3: PreTokenizer = { split: (t) => splitEach([t], llama3Like('{1,3}')), ignoreMerges: true };

/**
 * The byte-level BPE pre-tokenizers of the model families the engine fine-tunes, by `tokenizer.ggml.pre` (the names
 * llama.cpp's converter writes): GPT-2's, Llama 3's (llama-bpe), Qwen2's and SmolLM's (digits one by one, then
 * GPT-2's pattern without its final `\s+`).
 */
export const preTokenizers: Readonly<Record<string, PreTokenizer>> = {
  'gpt-2': { split: preTokenize, ignoreMerges: false },
  'llama-bpe': llama3,
  llama3: llama3,
  'llama-v3': llama3,
  qwen2: { split: (t) => splitEach([t], llama3Like('')), ignoreMerges: false },
  smollm: { split: (t) => splitEach(splitEach([t], /\p{N}/gu), gpt2Without), ignoreMerges: false },
};
