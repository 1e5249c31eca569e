/**
 * RAG: the hybrid retriever that chooses a grounded answer's passages, and BM25 with the terms it matches on, which
 * the citation evidence that pays is computed with.
 */
export { type Bm25Document, type Bm25Hit, type Bm25Index, type Bm25Options, createBm25Index } from './bm25.js';
export { createHybridRetriever, type HybridHit, type HybridRetriever } from './hybrid.js';
export { terms } from './terms.js';
export { bundledWordVectors, type WordVectors, writeWordVectors } from './word-vectors.js';
export { bundledWordNet } from './wordnet.js';
