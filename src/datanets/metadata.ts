/**
 * A DataNet's metadata document: what it is, the JSON schema its rows follow, its license and its ingest
 * policy. The document is content-addressed; its CID, the schema hash and the license id are on chain.
 */
import { z } from 'zod';
import { BaseError, canonicalJson, cidOf, type Hex, keccak256 } from '../core/index.js';
import { piiKinds } from './pii.js';
import { compileSchema } from './schema.js';

const piiAction = z.enum(['reject', 'redact', 'allow']);

export const policySchema = z.object({
  pii: z
    .object({ default: piiAction, kinds: z.partialRecord(z.enum(piiKinds), piiAction).optional() })
    .default({ default: 'redact' }),
  /** Rows at least this similar (estimated Jaccard of character 5-grams) to an accepted row are near duplicates. */
  nearDuplicateThreshold: z.number().min(0.5).max(1).default(0.85),
  /** Largest accepted row, in bytes of canonical JSON. */
  maxRowBytes: z.number().int().min(64).max(1_048_576).default(65_536),
});

export const metadataSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(10_000).default(''),
  /** JSON Schema (draft 2020-12 or 07) every row must satisfy. */
  schema: z.record(z.string(), z.unknown()),
  license: z.object({ id: z.string().min(1).max(100), url: z.string().optional() }),
  policy: policySchema.default({ pii: { default: 'redact' }, nearDuplicateThreshold: 0.85, maxRowBytes: 65_536 }),
});

export type DataNetMetadata = z.output<typeof metadataSchema>;
export type DataNetPolicy = z.output<typeof policySchema>;

/** Validates a metadata document (and that its schema compiles); INVALID_ARGUMENT names the field. */
export function parseMetadata(input: unknown): DataNetMetadata {
  const r = metadataSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Invalid DataNet metadata: field ${field}: ${issue?.message ?? 'invalid'}`,
      { details: { field } },
    );
  }
  compileSchema(r.data.schema);
  return r.data;
}

/** What goes on chain about a metadata document. */
export function metadataCommitments(m: DataNetMetadata): { metadataCID: string; schemaHash: Hex; licenseId: Hex } {
  return {
    metadataCID: cidOf(canonicalJson(m)),
    schemaHash: keccak256(canonicalJson(m.schema)),
    licenseId: licenseIdOf(m.license.id),
  };
}

/** The on-chain id of a license: keccak256 of its identifier (an SPDX id such as "CC-BY-4.0"). */
export function licenseIdOf(id: string): Hex {
  return keccak256(id);
}
