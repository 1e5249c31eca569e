/**
 * The outcome of attributing one inference: who made the answer possible, in integer parts per million that sum
 * exactly to 1,000,000 together with an explicit unattributed share. Its canonical JSON is hashed into the
 * node-signed receipt (`attributionHash`), so auditors read it with exactly these fields: an unknown field is
 * refused, not dropped.
 */
import { z } from 'zod';
import { bytes32, decimal } from '../primitives.js';
import { decodeArtifact } from './parse.js';

export const attributionMethods = ['span', 'gradient', 'rag'] as const;
export const attributionMethod = z.enum(attributionMethods);
export type AttributionMethod = z.output<typeof attributionMethod>;

export const contributionShare = z.strictObject({
  /** Contribution id: its Merkle leaf in a DataNet version, or the row id of an audit corpus. */
  id: z.string(),
  /** The contributor's address (or, for an audit corpus, whatever the row names). */
  contributor: z.string(),
  /** The combined, method-weighted score before normalization (informative). */
  score: z.number(),
  ppm: z.number(),
});
export type ContributionShare = z.output<typeof contributionShare>;

export const attributionResult = z.strictObject({
  version: z.literal(2),
  methods: z.array(attributionMethod),
  /**
   * The corpus attributed against (`corpusHashOf` its rows: ids, contributors and keccak-256 of each text, in order): two results
   * recompute to the same bytes only over the same rows, so a verifier can tell a changed corpus from a wrong result.
   */
  corpusHash: bytes32,
  /** The DataNet version the contributions belong to (null when attributed against an ad-hoc corpus). */
  dataNet: z.strictObject({ id: decimal, version: z.number().int(), root: bytes32 }).nullable(),
  contributions: z.array(contributionShare),
  /** Per contributor, summed over their contributions. */
  sharesPpm: z.record(z.string(), z.number()),
  unattributedPpm: z.number(),
  /** How much the methods agree and how much of the output they explain, in [0, 1]. */
  confidence: z.number(),
  spans: z.array(
    z.strictObject({
      start: z.number().int(),
      end: z.number().int(),
      text: z.string(),
      contributionIds: z.array(z.string()),
    }),
  ),
});
export type AttributionResult = z.output<typeof attributionResult>;

/**
 * Reads an attribution result already parsed from JSON (a node's answer, a stored column); `source` names it in
 * errors. Whether its shares add up is the attribution domain's check (`checkAttribution`).
 */
export function parseAttributionResult(value: unknown, source: string): AttributionResult {
  return decodeArtifact(attributionResult, value, source);
}
