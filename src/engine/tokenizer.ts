/**
 * Byte-level BPE (GPT-2 style) as llama.cpp runs it for `tokenizer.ggml.model = "gpt2"`: text is split by the
 * vocabulary's pre-tokenizer (GPT-2's, Llama 3's, Qwen2's or SmolLM's: pretokenize.ts), each piece's UTF-8 bytes are mapped to printable symbols (bytes_to_unicode), and pairs
 * are merged by lowest rank, leftmost first. Every merge result is in the vocabulary and so are all 256 byte
 * symbols, so llama.cpp's per-byte fallback (which would disagree with us) is never reached. SentencePiece
 * vocabularies (`llama`) are encoded by tokenizer-spm.ts.
 */
import { BaseError } from '../core/index.js';
import { type PreTokenizer, preTokenizers } from './pretokenize.js';
import { createSpmTokenizer } from './tokenizer-spm.js';
import { type Tokenizer, tokenText, tokenType, type Vocabulary } from './vocabulary.js';

export { type Tokenizer, tokenType, type Vocabulary };

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
export const byteToSymbol: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = new Array<string>(256);
  for (const b of printable) out[b] = String.fromCodePoint(b);
  let next = 256;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCodePoint(next++);
  return out;
})();

const symbolToByte = new Map(byteToSymbol.map((c, b) => [c, b]));
const utf8 = new TextEncoder();
// ignoreBOM: a U+FEFF the text holds is text, not a byte-order mark to drop.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export function bytesToSymbols(s: string): string {
  let out = '';
  for (const b of utf8.encode(s)) out += byteToSymbol[b];
  return out;
}

/** The pre-tokenizer a BPE vocabulary names; MODEL_UNSUPPORTED lists those the engine has. */
export function preTokenizerOf(vocab: Pick<Vocabulary, 'pre'>): PreTokenizer {
  const name = vocab.pre ?? 'gpt-2';
  const pre = preTokenizers[name];
  if (!pre) {
    throw new BaseError(
      'MODEL_UNSUPPORTED',
      `Unsupported pre-tokenizer "${name}" (supported: ${Object.keys(preTokenizers).join(', ')})`,
      { details: { preTokenizer: name, supported: Object.keys(preTokenizers) } },
    );
  }
  return pre;
}

export function createTokenizer(vocab: Vocabulary): Tokenizer {
  if (vocab.model === 'llama') return createSpmTokenizer(vocab);
  const pre = preTokenizerOf(vocab);
  const idOf = new Map(vocab.tokens.map((t, i) => [t, i]));
  const ranks = new Map(vocab.merges.map((m, i) => [m, i]));
  for (const sym of byteToSymbol) {
    if (!idOf.has(sym)) {
      throw new BaseError('MODEL_INVALID', 'The vocabulary lacks a byte symbol', {
        details: { symbol: sym, codePoint: sym.codePointAt(0) },
      });
    }
  }
  // Pieces repeat a lot (words); a bounded cache of their ids.
  const cache = new Map<string, number[]>();
  const bpe = (piece: string): number[] => {
    const hit = cache.get(piece);
    if (hit) return hit;
    const whole = pre.ignoreMerges ? idOf.get(bytesToSymbols(piece)) : undefined;
    if (whole !== undefined) return [whole];
    const syms = Array.from(bytesToSymbols(piece));
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = ranks.get(`${syms[i]} ${syms[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      syms.splice(best, 2, syms[best]! + syms[best + 1]!);
    }
    const ids = syms.map((s) => {
      const id = idOf.get(s);
      if (id === undefined) {
        throw new BaseError('MODEL_INVALID', 'A merge result is missing from the vocabulary', {
          details: { token: s },
        });
      }
      return id;
    });
    if (cache.size < 100_000) cache.set(piece, ids);
    return ids;
  };
  return {
    vocab,
    encode(text) {
      const out: number[] = [];
      for (const p of pre.split(text)) for (const id of bpe(p)) out.push(id);
      return out;
    },
    decode(ids) {
      const bytes: number[] = [];
      for (const id of ids) {
        const t = tokenText(vocab, id);
        if (vocab.tokenTypes[id] === tokenType.control) continue;
        for (const ch of t) {
          const b = symbolToByte.get(ch);
          if (b === undefined) {
            throw new BaseError('MODEL_INVALID', `Token ${id} holds a symbol that is not a byte`, {
              details: { id, token: t },
            });
          }
          bytes.push(b);
        }
      }
      return utf8Decoder.decode(new Uint8Array(bytes));
    },
  };
}

export const endOfText = '<|endoftext|>';

/**
 * Trains byte-level BPE to `vocabSize` tokens (256 byte symbols + merges + specials), splitting words with the
 * pre-tokenizer named `pre`. Deterministic: the most
 * frequent pair wins, ties go to the smaller "left right" string; stops early when no pair occurs twice.
 * BOS and EOS are both the first special (<|endoftext|>), as in GPT-2.
 */
export function trainBpe(
  corpus: Iterable<string>,
  vocabSize: number,
  specials: string[] = [endOfText],
  pre = 'gpt-2',
): Vocabulary {
  const split = preTokenizerOf({ pre }).split;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length) {
    throw new BaseError('INVALID_ARGUMENT', 'vocabSize must be at least 256 plus the special tokens', {
      details: { field: 'vocabSize', value: vocabSize },
    });
  }
  const counts = new Map<string, number>();
  for (const text of corpus) for (const p of split(text)) counts.set(p, (counts.get(p) ?? 0) + 1);
  const words: string[][] = [];
  const freqs: number[] = [];
  for (const [w, c] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    words.push(Array.from(bytesToSymbols(w)));
    freqs.push(c);
  }
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addWord = (wi: number, sign: 1 | -1) => {
    const w = words[wi]!;
    for (let i = 0; i + 1 < w.length; i++) {
      const k = `${w[i]} ${w[i + 1]}`;
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + sign * freqs[wi]!);
      if (sign > 0) {
        const s = pairWords.get(k);
        if (s) s.add(wi);
        else pairWords.set(k, new Set([wi]));
      }
    }
  };
  for (let i = 0; i < words.length; i++) addWord(i, 1);
  const tokens = [...byteToSymbol];
  const merges: string[] = [];
  const nMerges = vocabSize - 256 - specials.length;
  for (let m = 0; m < nMerges; m++) {
    let best: string | undefined;
    let bestCount = 1;
    for (const [k, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best !== undefined && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === undefined) break;
    const sp = best.indexOf(' ');
    const a = best.slice(0, sp);
    const b = best.slice(sp + 1);
    const merged = a + b;
    merges.push(best);
    tokens.push(merged);
    for (const wi of [...(pairWords.get(best) ?? [])]) {
      addWord(wi, -1);
      const w = words[wi]!;
      const nw: string[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          nw.push(merged);
          i++;
        } else nw.push(w[i]!);
      }
      words[wi] = nw;
      addWord(wi, 1);
    }
    pairCounts.delete(best);
    pairWords.delete(best);
    for (const [k, c] of pairCounts) {
      if (c <= 0) {
        pairCounts.delete(k);
        pairWords.delete(k);
      }
    }
  }
  const tokenTypes: number[] = tokens.map(() => tokenType.normal);
  for (const s of specials) {
    tokens.push(s);
    tokenTypes.push(tokenType.control);
  }
  const eos = tokens.length - specials.length;
  return { ...(pre === 'gpt-2' ? {} : { pre }), tokens, tokenTypes, merges, bosId: eos, eosId: eos };
}
