/**
 * From a DataNet version's export to training examples. Rows with an instruction and a response (under any of
 * the usual key pairs) become supervised examples whose loss counts only the response; other rows are plain text
 * for causal language modelling. Every example keeps its contribution id and contributor: attribution later
 * traces answers back to them. The held-out split and the batch order depend only on the seed and the ids, so a
 * rerun (or a resumed job) sees exactly the same data in the same order.
 */
import type { Address, Hex } from 'viem';
import { at, keccak256 } from '../core/index.js';
import { formatInstruction, type TokenBatch, type Tokenizer } from '../engine/index.js';
import type { VersionExportRow } from '../protocol/index.js';

/**
 * The export's row and its parse are the protocol's (`VersionExportRow`, `parseVersionExport`); these names stay
 * for the factory's index until it imports them from there.
 */
export { parseVersionExport as parseExport, type VersionExportRow as ExportRow } from '../protocol/index.js';

interface ExampleTokens {
  contributionId: Hex;
  contributor: Address;
  /** Token ids including the end-of-text token. */
  tokens: number[];
  /** Per token: 1 if predicting it counts in the loss. */
  weights: number[];
}

/** A supervised example: what a user asks and the expected answer (also used for exact-match evaluation). */
export interface SftExample extends ExampleTokens {
  kind: 'sft';
  prompt: string;
  response: string;
}

/** Plain text, for causal language modelling. */
export interface TextExample extends ExampleTokens {
  kind: 'text';
}

export type TrainingExample = SftExample | TextExample;

const SFT_KEYS: [string, string][] = [
  ['instruction', 'response'],
  ['question', 'answer'],
  ['prompt', 'completion'],
  ['input', 'output'],
];

function sftPair(content: Record<string, unknown>): { prompt: string; response: string } | undefined {
  for (const [p, r] of SFT_KEYS) {
    const prompt = content[p];
    const response = content[r];
    if (typeof prompt === 'string' && typeof response === 'string' && prompt.trim() && response.trim())
      return { prompt, response };
  }
  return undefined;
}

/** Tokenizes rows into examples of at most `cutoffLength` tokens (longer ones are truncated). */
export function buildExamples(
  rows: readonly VersionExportRow[],
  tokenizer: Tokenizer,
  cutoffLength: number,
): TrainingExample[] {
  const eos = tokenizer.vocab.eosId;
  return rows.map((row): TrainingExample => {
    const pair = sftPair(row.content);
    if (pair) {
      const promptIds = tokenizer.encode(formatInstruction(pair.prompt));
      const responseIds = [...tokenizer.encode(` ${pair.response}`), eos];
      const tokens = [...promptIds, ...responseIds].slice(0, cutoffLength);
      const weights = tokens.map((_, i) => (i >= promptIds.length ? 1 : 0));
      return {
        contributionId: row.id,
        contributor: row.contributor,
        kind: 'sft',
        tokens,
        weights,
        prompt: pair.prompt,
        response: pair.response,
      };
    }
    const tokens = [...tokenizer.encode(row.text), eos].slice(0, cutoffLength);
    return { contributionId: row.id, contributor: row.contributor, kind: 'text', tokens, weights: tokens.map(() => 1) };
  });
}

/** A 32-bit number from a string and a seed, stable across runs and platforms. */
function hash32(s: string, seed: number): number {
  return Number.parseInt(keccak256(`${seed}:${s}`).slice(2, 10), 16);
}

/** Deterministic held-out split: about `fraction` of the examples (at least one when there are two or more). */
export function splitHeldOut(
  examples: TrainingExample[],
  fraction: number,
  seed: number,
): { train: TrainingExample[]; evaluation: TrainingExample[] } {
  if (examples.length < 2 || fraction <= 0) return { train: examples, evaluation: [] };
  const ranked = [...examples].sort(
    (a, b) =>
      hash32(a.contributionId, seed) - hash32(b.contributionId, seed) || (a.contributionId < b.contributionId ? -1 : 1),
  );
  const n = Math.max(1, Math.round(examples.length * fraction));
  const held = new Set(ranked.slice(0, n).map((e) => e.contributionId));
  return {
    train: examples.filter((e) => !held.has(e.contributionId)),
    evaluation: examples.filter((e) => held.has(e.contributionId)),
  };
}

/**
 * The examples of batch `step` (0-based) in a deterministic order: each epoch is a permutation seeded by
 * (seed, epoch). One example per row, padded with end-of-text tokens that carry no loss.
 */
export function batchAt(
  examples: TrainingExample[],
  step: number,
  batchSize: number,
  seqLen: number,
  seed: number,
  eosId: number,
): { batch: TokenBatch; members: TrainingExample[] } {
  const perEpoch = Math.max(1, Math.ceil(examples.length / batchSize));
  const epoch = Math.floor(step / perEpoch);
  const order = [...examples].sort(
    (a, b) =>
      hash32(a.contributionId, seed * 1_000_003 + epoch) - hash32(b.contributionId, seed * 1_000_003 + epoch) ||
      (a.contributionId < b.contributionId ? -1 : 1),
  );
  const start = (step % perEpoch) * batchSize;
  const members = Array.from({ length: batchSize }, (_, i) => at(order, (start + i) % order.length));
  return { batch: toBatch(members, seqLen, eosId), members };
}

/** Rows of (inputs, next-token targets, loss mask), each example left-aligned and padded. */
export function toBatch(members: TrainingExample[], seqLen: number, eosId: number): TokenBatch {
  const n = members.length * seqLen;
  const inputs = new Int32Array(n).fill(eosId);
  const targets = new Int32Array(n).fill(eosId);
  const mask = new Float32Array(n);
  for (const [b, ex] of members.entries()) {
    const toks = ex.tokens.slice(0, seqLen + 1);
    // Row b: tokens 0..n-2 predict tokens 1..n-1, each target's weight its loss mask (0 past the weights).
    inputs.set(toks.slice(0, -1), b * seqLen);
    targets.set(toks.slice(1), b * seqLen);
    for (let t = 0; t < toks.length - 1; t++) mask[b * seqLen + t] = ex.weights[t + 1] ?? 0;
  }
  return { batchSize: members.length, seqLen, inputs, targets, mask };
}
