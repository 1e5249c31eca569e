/** RAG citations: BM25 retrieval over a DataNet version, and the terms it matches on. */
export { type Bm25Document, type Bm25Hit, type Bm25Index, type Bm25Options, createBm25Index } from './bm25.js';
export { terms } from './terms.js';
