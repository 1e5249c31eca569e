/**
 * From a DataNet version's export to training examples. Rows with an instruction and a response (under any of
 * the usual key pairs) become supervised examples whose loss counts only the response; other rows are plain text
 * for causal language modelling. Every example keeps its contribution id and contributor: attribution later
 * traces answers back to them. The held-out split and the batch order depend only on the seed and the ids, so a
 * rerun (or a resumed job) sees exactly the same data in the same order.
 */
import type { Address, Hex } from 'viem';
import { contextBlock, groundedPrompt } from '../attribution/index.js';
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

/** The capitalised words of a question after its first word: the names of what it is about ("Jupiter", "Ada"). */
function namesIn(question: string): string[] {
  return [...question.matchAll(/\p{Lu}[\p{L}\p{N}]*/gu)].filter((m) => m.index > 0).map((m) => m[0]);
}

/**
 * Each instruction/response row once more as a grounded prompt, the form a node serves with retrieval: the row's
 * own text as the one retrieved passage, then *another* question about the same subject (the other row whose
 * question shares the rarest name with this one's, e.g. "How hot is Mars?" for "How many moons does Mars have?";
 * a seeded other row when none does), answered with this row's response. The passage, not the wording of the
 * question, says what to answer: so a model answers a question worded unlike any row from the passage retrieval
 * found for it. Measured on the demo's planets: reworded questions right 8 of 12 with such a question, 4 with a
 * random row's question (which teaches ignoring the question) and 6 with the row's own (which teaches nothing new).
 * Examples longer than `cutoffLength` tokens are left out rather than cut (a cut answer teaches a cut answer).
 */
export function groundedExamples(
  rows: readonly VersionExportRow[],
  tokenizer: Tokenizer,
  cutoffLength: number,
  seed: number,
): SftExample[] {
  const pairs = rows.flatMap((row) => {
    const pair = sftPair(row.content);
    return pair ? [{ row, ...pair, names: new Set(namesIn(pair.prompt)) }] : [];
  });
  if (pairs.length < 2) return [];
  const holders = new Map<string, number>();
  for (const p of pairs) for (const n of p.names) holders.set(n, (holders.get(n) ?? 0) + 1);
  const eos = tokenizer.vocab.eosId;
  return pairs.flatMap((x, i): SftExample[] => {
    // The shared names' weight: rarer names say more about the subject (idf-like), so "Mars" beats "Sun".
    const affinity = (j: number) =>
      [...at(pairs, j).names].reduce((w, n) => w + (x.names.has(n) ? 1 / (holders.get(n) ?? 1) : 0), 0);
    const others = pairs.map((_, j) => j).filter((j) => j !== i);
    const best = Math.max(...others.map(affinity));
    const candidates = others.filter((j) => affinity(j) === best);
    const other = at(pairs, at(candidates, hash32(x.row.id, seed) % candidates.length));
    const prompt = groundedPrompt(formatInstruction(other.prompt), { context: contextBlock([x.row.text]) });
    const promptIds = tokenizer.encode(prompt);
    const tokens = [...promptIds, ...tokenizer.encode(` ${x.response}`), eos];
    if (tokens.length > cutoffLength) return [];
    const weights = tokens.map((_, t) => (t >= promptIds.length ? 1 : 0));
    return [
      {
        contributionId: x.row.id,
        contributor: x.row.contributor,
        kind: 'sft',
        tokens,
        weights,
        prompt,
        response: x.response,
      },
    ];
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

/** Examples trained at one sequence length: the longest one's (rounded up to 8, few compiled shapes), at most `cap`. */
export interface Bucket {
  examples: TrainingExample[];
  seqLen: number;
}

export function bucketOf(examples: TrainingExample[], cap: number): Bucket {
  const longest = Math.max(1, ...examples.map((e) => e.tokens.length - 1));
  return { examples, seqLen: Math.min(cap, Math.ceil(longest / 8) * 8) };
}

/** Batches per epoch: each bucket's examples in batches of their own. */
export function batchesPerEpoch(buckets: readonly Bucket[], batchSize: number): number {
  return buckets.reduce((n, b) => n + Math.ceil(b.examples.length / batchSize), 0);
}

/**
 * Batch `step` when examples of different lengths train in buckets (plain rows, grounded prompts): an epoch takes
 * the buckets' batches in turn (one of each while each has some left), each bucket in its own seeded order and
 * padded only to its own length. A function of `step` alone, so a resumed job sees the same batches.
 */
export function bucketBatchAt(
  buckets: readonly Bucket[],
  step: number,
  batchSize: number,
  seed: number,
  eosId: number,
): { batch: TokenBatch; members: TrainingExample[] } {
  const sizes = buckets.map((b) => Math.ceil(b.examples.length / batchSize));
  const perEpoch = sizes.reduce((a, b) => a + b, 0);
  const epoch = Math.floor(step / perEpoch);
  let left = step % perEpoch;
  for (let round = 0; ; round++) {
    for (const [k, bucket] of buckets.entries()) {
      const size = at(sizes, k);
      if (round >= size) continue;
      if (left-- === 0) return batchAt(bucket.examples, epoch * size + round, batchSize, bucket.seqLen, seed, eosId);
    }
  }
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
