/**
 * SentencePiece (`tokenizer.ggml.model = "llama"`: Llama 2, Mistral, TinyLlama) as llama.cpp runs it: spaces become
 * ▁ (U+2581) and one is put before the text; the text is split into characters, and the adjacent pair whose
 * concatenation is the highest-scoring token is merged first (leftmost on ties), until no pair is a token. A piece
 * that is not a token is written as its UTF-8 bytes (`<0xXX>` tokens: byte fallback).
 */
import { BaseError } from '../core/index.js';
import { type Tokenizer, tokenText, tokenType, type Vocabulary } from './vocabulary.js';

export const SPACE_MARK = '\u2581';
const utf8 = new TextEncoder();
// ignoreBOM: a U+FEFF the text holds is text, not a byte-order mark to drop.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const byteToken = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

interface Candidate {
  left: number;
  right: number;
  score: number;
  /** Characters the merged piece spans when proposed: a stale candidate no longer matches. */
  size: number;
}

/** Max-heap on score, then the leftmost first. */
function createQueue() {
  const heap: Candidate[] = [];
  const before = (a: Candidate, b: Candidate) => a.score > b.score || (a.score === b.score && a.left < b.left);
  return {
    push(c: Candidate) {
      heap.push(c);
      let i = heap.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!before(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    },
    pop(): Candidate | undefined {
      const top = heap[0];
      const last = heap.pop();
      if (heap.length > 0 && last) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
          if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      return top;
    },
  };
}

export function createSpmTokenizer(vocab: Vocabulary): Tokenizer {
  const scores = vocab.scores ?? [];
  const idOf = new Map<string, number>();
  vocab.tokens.forEach((t, i) => {
    if (!idOf.has(t)) idOf.set(t, i);
  });
  const bytes: number[] = [];
  for (let b = 0; b < 256; b++) {
    const id = idOf.get(byteToken(b));
    if (id === undefined) {
      throw new BaseError('MODEL_INVALID', `The SentencePiece vocabulary lacks the byte token ${byteToken(b)}`, {
        details: { token: byteToken(b) },
      });
    }
    bytes.push(id);
  }
  const addSpacePrefix = vocab.addSpacePrefix ?? true;

  function encodePiece(text: string, out: number[]): void {
    const chars = Array.from(text);
    const sym = chars.map((c, i) => ({ text: c, len: 1, prev: i - 1, next: i + 1 < chars.length ? i + 1 : -1 }));
    const queue = createQueue();
    const propose = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const id = idOf.get(sym[left]!.text + sym[right]!.text);
      if (id === undefined) return;
      queue.push({ left, right, score: scores[id] ?? 0, size: sym[left]!.len + sym[right]!.len });
    };
    for (let i = 1; i < sym.length; i++) propose(i - 1, i);
    for (let c = queue.pop(); c; c = queue.pop()) {
      const l = sym[c.left]!;
      const r = sym[c.right]!;
      if (l.len === 0 || r.len === 0 || l.len + r.len !== c.size) continue;
      l.text += r.text;
      l.len += r.len;
      r.len = 0;
      l.next = r.next;
      if (r.next >= 0) sym[r.next]!.prev = c.left;
      propose(l.prev, c.left);
      propose(c.left, l.next);
    }
    for (let i = sym.length > 0 ? 0 : -1; i !== -1; i = sym[i]!.next) {
      const id = idOf.get(sym[i]!.text);
      if (id !== undefined) out.push(id);
      else for (const b of utf8.encode(sym[i]!.text)) out.push(bytes[b]!);
    }
  }

  return {
    vocab,
    encode(text) {
      const out: number[] = [];
      if (text.length === 0) return out;
      encodePiece((addSpacePrefix ? ` ${text}` : text).replaceAll(' ', SPACE_MARK), out);
      return out;
    },
    decode(ids) {
      const parts: Uint8Array[] = [];
      for (const id of ids) {
        const t = tokenText(vocab, id);
        const type = vocab.tokenTypes[id];
        if (type === tokenType.control) continue;
        const byte = type === tokenType.byte ? /^<0x([0-9A-F]{2})>$/.exec(t) : null;
        parts.push(byte ? Uint8Array.of(Number.parseInt(byte[1]!, 16)) : utf8.encode(t.replaceAll(SPACE_MARK, ' ')));
      }
      const text = utf8Decoder.decode(Buffer.concat(parts));
      return addSpacePrefix && text.startsWith(' ') ? text.slice(1) : text;
    },
  };
}
