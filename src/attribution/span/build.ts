/**
 * Building a span index in memory: concatenate the documents, sort the suffixes (SA-IS), keep what queries need.
 * Write it with `writeSpanIndex`, query it with `spanIndexFromData`.
 */
import { BaseError } from '../../core/index.js';
import { concatDocuments, type DocumentEntry, type SpanDocument } from './corpus.js';
import { type SuffixSorter, sortSuffixes } from './sorter.js';
import type { SpanTokenizer } from './tokenizer.js';

export interface SpanIndexData {
  /** Identity of the tokenizer the token ids come from. */
  tokenizer: string;
  /** Documents back to back, each followed by the separator 0xFFFF. */
  tokens: Uint16Array;
  /** Positions in `tokens` of every token suffix, in lexicographic order (separator suffixes left out). */
  sa: Uint32Array;
  /** Document d occupies tokens[starts[d], starts[d + 1] - 1). */
  starts: Uint32Array;
  documents: DocumentEntry[];
}

export interface BuildSpanIndexInput {
  documents: Iterable<SpanDocument>;
  /** The tokenizer identity the ids come from (SpanTokenizer.id). */
  tokenizerId: string;
  /** Which SA-IS implementation; `auto` (default) takes WebAssembly when the corpus fits in its 4 GiB. */
  sorter?: SuffixSorter;
}

export function buildSpanIndex(input: BuildSpanIndexInput): SpanIndexData {
  if (typeof input.tokenizerId !== 'string' || input.tokenizerId.length === 0) {
    throw new BaseError('INVALID_ARGUMENT', 'A span index needs the identity of its tokenizer', {
      details: { field: 'tokenizerId' },
    });
  }
  const stream = concatDocuments(input.documents);
  const sa = sortSuffixes(stream, input.sorter ?? 'auto');
  return {
    tokenizer: input.tokenizerId,
    tokens: stream.tokens,
    sa,
    starts: stream.starts,
    documents: stream.documents,
  };
}

export interface TextDocument {
  contributionId: string;
  contributor: string;
  text: string;
}

/** Tokenizes each document with `tokenizer` and builds the index (for JSONL corpora and DataNet versions). */
export function buildSpanIndexFromTexts(input: {
  documents: Iterable<TextDocument>;
  tokenizer: SpanTokenizer;
  sorter?: SuffixSorter;
}): SpanIndexData {
  const docs: SpanDocument[] = [];
  for (const d of input.documents) {
    if (typeof d.text !== 'string') {
      throw new BaseError('INVALID_ARGUMENT', `Document ${docs.length} has no text`, {
        details: { document: docs.length, field: 'text' },
      });
    }
    docs.push({ contributionId: d.contributionId, contributor: d.contributor, tokens: input.tokenizer.encode(d.text) });
  }
  return buildSpanIndex({
    documents: docs,
    tokenizerId: input.tokenizer.id,
    ...(input.sorter ? { sorter: input.sorter } : {}),
  });
}
