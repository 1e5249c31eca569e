/**
 * The tokenizer seam. A span index is only meaningful with the tokenizer of the model whose outputs it traces, so
 * the index stores the tokenizer's identity and refuses another. The served model's tokenizer plugs in as
 * `{ id: <hash of its vocabulary and merges>, encode, decode }`; `createWordTokenizer` is a dependency-free one
 * for tests, benches and audits of plain text.
 */
export interface SpanTokenizer {
  /** Stable identity (e.g. sha-256 of vocabulary + merges): an index built with another id is refused. */
  readonly id: string;
  /** Token ids of `text`; every id must be ≤ 65,534 (0xFFFF is the document separator). */
  encode(text: string): ArrayLike<number>;
  /** Optional: lets traces carry the text of each span. */
  decode?(ids: readonly number[]): string;
}

/** Han, Hiragana and Katakana: scripts written without spaces between words. */
const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}';
const PIECE = new RegExp(`[${CJK}]|(?:(?![${CJK}])\\p{L})+|\\p{N}+|[^\\s\\p{L}\\p{N}]`, 'gu');

/**
 * Words, numbers and single punctuation marks, each mapped to FNV-1a(piece) mod 65,535. Deterministic across
 * machines and runs with no vocabulary file; collisions (rare at corpus scale) only merge two pieces' counts.
 * Chinese and Japanese characters are one token each: without spaces a whole sentence would otherwise be one
 * "word", and no span could match inside it. (Not a dictionary segmenter: Intl.Segmenter's words follow the
 * runtime's ICU version, and spans decide money on the node and every auditor alike.) v2: CJK characters.
 */
export function createWordTokenizer(): SpanTokenizer {
  const pieces = new Map<number, string>();
  return {
    id: 'word-fnv1a-mod65535-v2',
    encode(text) {
      const out: number[] = [];
      for (const [piece] of text.matchAll(PIECE)) {
        let h = 0x811c9dc5;
        for (let i = 0; i < piece.length; i++) h = Math.imul(h ^ piece.charCodeAt(i), 0x01000193) >>> 0;
        const id = h % 0xffff;
        if (!pieces.has(id)) pieces.set(id, piece);
        out.push(id);
      }
      return out;
    },
    decode(ids) {
      return ids.map((id) => pieces.get(id) ?? `<${id}>`).join(' ');
    },
  };
}
