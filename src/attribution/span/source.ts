/** Where a span index's arrays come from: memory (just built) or a directory (read lazily and verified). */
import type { DocumentEntry } from './corpus.js';
import type { SearchArrays } from './search.js';

export interface SpanIndexInfo {
  tokenizer: string;
  /** Corpus tokens (separators excluded). */
  tokens: number;
  documents: number;
  /** Where it was opened from; null for an index held in memory. */
  dir: string | null;
}

export interface IndexSource {
  readonly info: SpanIndexInfo;
  arrays(): Promise<SearchArrays>;
  starts(): Promise<Uint32Array>;
  documents(): Promise<DocumentEntry[]>;
}
