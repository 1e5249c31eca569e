/**
 * A DataNet's metadata document: what it is, the JSON schema its rows follow, its license and its ingest
 * policy. The document is content-addressed; its CID, the schema hash and the license id are on chain.
 */
import { BaseError, canonicalJson, cidOf, type Hex, keccak256 } from '../core/index.js';
import { datanetsApi } from '../protocol/index.js';
import { compileSchema } from './schema.js';

// The document's rules are the protocol's (src/protocol/http/datanets.ts); what is added here is the node's
// defaults for what a registration leaves out, and (in parseMetadata) that the row schema compiles.
const { dataNetMetadata, dataNetPolicy } = datanetsApi;

export const policySchema = dataNetPolicy.extend({
  pii: dataNetPolicy.shape.pii.default({ default: 'redact' }),
  nearDuplicateThreshold: dataNetPolicy.shape.nearDuplicateThreshold.default(0.85),
  maxRowBytes: dataNetPolicy.shape.maxRowBytes.default(65_536),
});

export const metadataSchema = dataNetMetadata.extend({
  description: dataNetMetadata.shape.description.default(''),
  policy: policySchema.default({ pii: { default: 'redact' }, nearDuplicateThreshold: 0.85, maxRowBytes: 65_536 }),
});

/** A registered metadata document (the protocol's `DataNetMetadataDocument`), every default filled in. */
export type DataNetMetadata = datanetsApi.DataNetMetadataDocument;
export type DataNetPolicy = datanetsApi.DataNetPolicy;

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
