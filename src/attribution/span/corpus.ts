/**
 * The token stream a span index is built over: every document's tokens followed by a separator. On disk and in
 * queries every separator is the reserved id 0xFFFF, which no query may contain, so no match can cross a document
 * boundary. For suffix sorting each separator becomes its own symbol above all tokens (unique separators), so
 * equal suffixes never compare past a document end either and suffixes that start on a separator sort last.
 */
import { BaseError } from '../../core/index.js';

/** The reserved token id marking a document end; tokenizers must produce ids below it. */
export const SEPARATOR = 0xffff;
/** Largest usable token id. */
export const MAX_TOKEN_ID = SEPARATOR - 1;
/** Positions are 32-bit and SA-IS works on Int32Array: the stream plus sentinel must fit in 2^31 - 1. */
export const MAX_STREAM_LENGTH = 2 ** 31 - 2;

export interface SpanDocument {
  /** The contribution this document is (its id in the DataNet version, or a corpus row id). */
  contributionId: string;
  /** The contributor's address. */
  contributor: string;
  tokens: ArrayLike<number>;
}

export interface DocumentEntry {
  contributionId: string;
  contributor: string;
}

export interface TokenStream {
  /** Documents back to back, each followed by SEPARATOR. */
  tokens: Uint16Array;
  /** Document d occupies tokens[starts[d], starts[d + 1] - 1); its separator is at starts[d + 1] - 1. */
  starts: Uint32Array;
  documents: DocumentEntry[];
  /** Tokens without separators. */
  tokenCount: number;
}

export function invalidToken(value: unknown, where: Record<string, unknown>): BaseError {
  return new BaseError('INVALID_ARGUMENT', `Token id ${String(value)} is out of range (0..${MAX_TOKEN_ID})`, {
    details: { ...where, value, max: MAX_TOKEN_ID },
  });
}

/** Concatenates documents into a stream, validating ids and token ranges. */
export function concatDocuments(input: Iterable<SpanDocument>): TokenStream {
  const docs = [...input];
  let length = 0;
  docs.forEach((d, i) => {
    for (const field of ['contributionId', 'contributor'] as const) {
      if (typeof d[field] !== 'string' || d[field].length === 0) {
        throw new BaseError('INVALID_ARGUMENT', `Document ${i} has no ${field}`, { details: { document: i, field } });
      }
    }
    length += d.tokens.length + 1;
  });
  if (length === docs.length) {
    throw new BaseError('INVALID_ARGUMENT', 'Cannot build a span index from an empty corpus', {
      details: { documents: docs.length },
    });
  }
  if (length > MAX_STREAM_LENGTH) {
    throw new BaseError('PAYLOAD_TOO_LARGE', `A span index holds at most ${MAX_STREAM_LENGTH} tokens and separators`, {
      details: { length },
    });
  }
  const tokens = new Uint16Array(length);
  const starts = new Uint32Array(docs.length + 1);
  let n = 0;
  docs.forEach((d, i) => {
    const src = d.tokens;
    const len = src.length;
    if (src instanceof Uint16Array) {
      // Fast path for typed input: copy, then only 0xFFFF can be out of range.
      tokens.set(src, n);
      const bad = src.indexOf(SEPARATOR);
      if (bad >= 0) throw invalidToken(SEPARATOR, { document: i, index: bad });
      n += len;
    } else {
      for (let j = 0; j < len; j++) {
        const t = src[j]!;
        if (!(Number.isInteger(t) && t >= 0 && t <= MAX_TOKEN_ID)) throw invalidToken(t, { document: i, index: j });
        tokens[n++] = t;
      }
    }
    tokens[n++] = SEPARATOR;
    starts[i + 1] = n;
  });
  return {
    tokens,
    starts,
    documents: docs.map((d) => ({ contributionId: d.contributionId, contributor: d.contributor })),
    tokenCount: length - docs.length,
  };
}

/**
 * The suffix-sorting alphabet: 0 = sentinel, token t → t + 1, the separator ending document d → 65,536 + d.
 * Returns the symbols (in `into` when given, e.g. a view of WebAssembly memory) and the alphabet size.
 */
export function sortingText(stream: TokenStream, into?: Int32Array): { text: Int32Array; alphabet: number } {
  const { tokens, starts } = stream;
  const text = into ?? new Int32Array(tokens.length + 1);
  text[tokens.length] = 0;
  for (let i = 0; i < tokens.length; i++) text[i] = tokens[i]! + 1;
  for (let d = 1; d < starts.length; d++) text[starts[d]! - 1] = SEPARATOR + d;
  return { text, alphabet: SEPARATOR + starts.length };
}
