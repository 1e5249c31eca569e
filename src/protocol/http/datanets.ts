/**
 * The DataNet routes: registering a DataNet's metadata, submitting and reviewing signed contributions, versions
 * (drafts, published, their manifests and exports), inclusion proofs and withdrawals. The response schemas are
 * what leaves the node: a DataNet id, nonce or block is a `bigint` on both sides and a decimal string on the
 * wire, a timestamp a `Date` and an ISO string. The version manifest and export are file artifacts
 * (../artifacts/); the metadata document is content-addressed too, its shape here the document's own.
 */
import { z } from 'zod';
import { versionManifest } from '../artifacts/manifest.js';
import { versionExportLine } from '../artifacts/version-export.js';
import {
  address,
  bytes32,
  cid,
  decimalId,
  isoDate,
  positiveIntParam,
  signature,
  uintString,
  wei,
} from '../primitives.js';
import { route } from '../route.js';

const tags = ['datanets'] as const;

/** A decimal string that stays a string (signed nonces and deadlines, ids inside content-addressed documents). */
const decimalString = z.string().regex(/^\d+$/, 'expected a non-negative integer as a decimal string');

/** A 32-byte hex string that the domain keeps typed as a plain string (what users submit before it is checked). */
const hash32String = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex string');

/** An address as stored (checksummed by the node), kept a plain string. */
const addressString = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address');

const contributionStatus = z.enum(['pending', 'approved', 'rejected', 'withdrawn']);
const versionNumber = z.number().int().min(1);
const dataNetParams = z.object({ id: decimalId });
const versionParams = z.object({ id: decimalId, version: positiveIntParam });
const contributionParams = z.object({ contributionId: bytes32 });
const pageLimit = z.coerce.number().int().min(1).max(1000);

// ---------------------------------------------------------------------------------------------------------------
// The metadata document (content-addressed; its CID, schema hash and license id are on chain). Its rules are
// defined here, once; src/datanets/metadata.ts builds on them, adding the defaults a registration may leave out
// and the check that the row schema compiles.

/** What the ingest pipeline does with a kind of personal data: reject the row, redact the match, or allow it. */
export const piiActions = ['reject', 'redact', 'allow'] as const;
export type PiiAction = (typeof piiActions)[number];
const piiAction = z.enum(piiActions);
/** The kinds of personal data the ingest pipeline finds (src/datanets/pii.ts). */
export const piiKinds = ['email', 'phone', 'credit_card', 'iban', 'ssn', 'ip_address'] as const;
export type PiiKind = (typeof piiKinds)[number];

/** A DataNet's ingest policy. */
export const dataNetPolicy = z.object({
  /** The action for each kind of personal data; `default` for the kinds not listed. */
  pii: z.object({ default: piiAction, kinds: z.partialRecord(z.enum(piiKinds), piiAction).optional() }),
  /** Rows at least this similar (estimated Jaccard of character 5-grams) to an accepted row are near duplicates. */
  nearDuplicateThreshold: z.number().min(0.5).max(1),
  /** Largest accepted row, in bytes of canonical JSON. */
  maxRowBytes: z.number().int().min(64).max(1_048_576),
});
export type DataNetPolicy = z.output<typeof dataNetPolicy>;

/** A metadata document as the node holds it: validated, with every default of its policy filled in. */
export const dataNetMetadata = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(10_000),
  /** JSON Schema (draft 2020-12 or 07) every row must satisfy. */
  schema: z.record(z.string(), z.unknown()),
  license: z.object({ id: z.string().min(1).max(100), url: z.string().optional() }),
  policy: dataNetPolicy,
});
export type DataNetMetadataDocument = z.output<typeof dataNetMetadata>;

// ---------------------------------------------------------------------------------------------------------------
// DataNets

export const dataNetView = z.object({
  id: uintString,
  owner: address,
  treasury: address,
  metadataCid: cid,
  /** Null until the metadata document is registered (POST /v1/datanets). */
  metadata: dataNetMetadata.nullable(),
  schemaHash: bytes32,
  licenseId: bytes32,
  /** The bond a contributor deposits before contributing, in wei. */
  bondAmount: wei,
  forfeitBps: z.number().int(),
  curators: z.array(address),
  counts: z.object({
    pending: z.number().int(),
    approved: z.number().int(),
    rejected: z.number().int(),
    withdrawn: z.number().int(),
  }),
  /** The highest published version (0 if none). */
  latestVersion: z.number().int(),
});
export type DataNetView = z.output<typeof dataNetView>;

export const registerDataNet = route({
  method: 'POST',
  path: '/v1/datanets',
  tags,
  summary: 'Register the metadata of a DataNet created on chain',
  description:
    'The document must hash to the metadata CID, schema hash and license id of DataNetRegistry.createDataNet.',
  body: z.object({ dataNetId: uintString, metadata: z.record(z.string(), z.unknown()) }),
  response: dataNetView,
});

export const listDataNets = route({
  method: 'GET',
  path: '/v1/datanets',
  tags,
  summary: 'List DataNets',
  response: z.object({ items: z.array(dataNetView) }),
});

export const getDataNet = route({
  method: 'GET',
  path: '/v1/datanets/:id',
  tags,
  summary: 'One DataNet: settings, curators, counts, latest version',
  params: dataNetParams,
  response: dataNetView,
});

// ---------------------------------------------------------------------------------------------------------------
// Contributions

/** A row as its contributor signed it. Nonce and deadline stay strings: a malformed one rejects only its row. */
export const submission = z.object({
  contributor: z.string().describe('address of the signer'),
  content: z.record(z.string(), z.unknown()).describe('the prepared (normalized, redacted) row that was signed'),
  contentHash: hash32String,
  nonce: decimalString,
  deadline: decimalString.describe('unix seconds'),
  signature: z.string(),
  source: z.string().max(500).optional(),
});
export type SubmissionBody = z.output<typeof submission>;

export const submissionResult = z.object({
  /** The row's position in the request. */
  index: z.number().int().nonnegative(),
  status: z.enum(['accepted', 'already_submitted', 'duplicate', 'near_duplicate', 'rejected']),
  contributionId: bytes32.exactOptional(),
  /** For duplicates: the contribution this one repeats. */
  matched: bytes32.exactOptional(),
  similarity: z.number().exactOptional(),
  /** For rejections: a stable reason and a sentence naming the field. */
  reason: z.string().exactOptional(),
  message: z.string().exactOptional(),
  /** PII found and redacted, by kind. */
  redacted: z.record(z.string(), z.number().int()).exactOptional(),
});
export type SubmissionOutcome = z.output<typeof submissionResult>;

export const submitContributions = route({
  method: 'POST',
  path: '/v1/datanets/:id/contributions',
  tags,
  summary: 'Submit signed contributions (up to 1000)',
  description:
    'Each row is re-run through the DataNet pipeline and must give the signed content hash. The reply has one result per row: accepted, already_submitted, duplicate, near_duplicate or rejected (with reason and message). Accepted rows are durable when the reply is sent.',
  params: dataNetParams,
  body: z.object({ contributions: z.array(submission).min(1) }),
  response: z.object({ results: z.array(submissionResult) }),
});

export const contributionView = z.object({
  /** The contribution's id: its Merkle leaf. */
  id: bytes32,
  dataNetId: uintString,
  contributor: address,
  contentHash: bytes32,
  cid,
  licenseId: bytes32,
  /** With `signature`, the contributor's signed Contribution message (what DataNetRegistry.forfeitBond checks). */
  nonce: uintString,
  deadline: uintString,
  signature,
  status: contributionStatus,
  bytes: z.number().int().nonnegative(),
  redacted: z.record(z.string(), z.number().int()),
  source: z.string().nullable(),
  createdAt: isoDate,
  withdrawnAt: isoDate.nullable(),
  /** Published versions whose root includes it. */
  versions: z.array(versionNumber),
  absentFromVersion: versionNumber.nullable(),
});
export type ContributionView = z.output<typeof contributionView>;

export const contributionPage = z.object({
  items: z.array(contributionView),
  /** Pass as `after` for the next page; null when this page is empty. */
  next: uintString.nullable(),
});
export type ContributionPage = z.output<typeof contributionPage>;

export const listContributions = route({
  method: 'GET',
  path: '/v1/datanets/:id/contributions',
  tags,
  summary: 'Contributions in ingest order (status=pending is the review queue)',
  params: dataNetParams,
  query: z.object({
    status: contributionStatus.optional(),
    after: uintString.optional(),
    limit: pageLimit.optional(),
  }),
  response: contributionPage,
});

export const getContribution = route({
  method: 'GET',
  path: '/v1/contributions/:contributionId',
  tags,
  summary: 'One contribution: status, versions containing it, and from which version on it is absent',
  params: contributionParams,
  response: contributionView,
});

export const getContributionContent = route({
  method: 'GET',
  path: '/v1/contributions/:contributionId/content',
  tags,
  summary: 'The stored content of a live contribution',
  params: contributionParams,
  response: z.record(z.string(), z.unknown()),
});

// ---------------------------------------------------------------------------------------------------------------
// Curation

export const review = z.object({
  contributionId: hash32String,
  approve: z.boolean(),
  spam: z.boolean().optional(),
  reason: z.string().max(2000),
  curator: z.string(),
  nonce: decimalString,
  deadline: decimalString,
  signature: z.string(),
});
export type ReviewBody = z.output<typeof review>;

export const reviewResult = z.object({
  index: z.number().int().nonnegative(),
  contributionId: hash32String,
  status: z.enum(['approved', 'rejected', 'refused']),
  /** Why a decision was refused. */
  message: z.string().exactOptional(),
});
export type ReviewOutcome = z.output<typeof reviewResult>;

export const submitReviews = route({
  method: 'POST',
  path: '/v1/datanets/:id/reviews',
  tags,
  summary: 'Approve or reject contributions (curator-signed)',
  params: dataNetParams,
  body: z.object({ reviews: z.array(review).min(1).max(1000) }),
  response: z.object({ results: z.array(reviewResult) }),
});

export const reviewRecord = z.object({
  id: uintString,
  contributionId: bytes32,
  curator: addressString,
  decision: z.enum(['approve', 'reject']),
  reason: z.string(),
  reasonHash: bytes32,
  spam: z.boolean(),
  signature,
  createdAt: isoDate,
});
export type ReviewRecordView = z.output<typeof reviewRecord>;

export const listReviews = route({
  method: 'GET',
  path: '/v1/datanets/:id/reviews',
  tags,
  summary: 'Audit log of curator decisions',
  params: dataNetParams,
  query: z.object({ after: uintString.optional(), limit: pageLimit.optional() }),
  response: z.object({ items: z.array(reviewRecord) }),
});

// ---------------------------------------------------------------------------------------------------------------
// Versions

export const versionView = z.object({
  dataNetId: uintString,
  version: versionNumber,
  /** A draft until its root is committed on chain (DataNetRegistry.commitVersion). */
  status: z.enum(['draft', 'published']),
  root: bytes32,
  count: z.number().int().nonnegative(),
  manifestCid: cid,
  committedBlock: uintString.nullable(),
  committedTx: bytes32.nullable(),
});
export type VersionView = z.output<typeof versionView>;

export const prepareVersion = route({
  method: 'POST',
  path: '/v1/datanets/:id/versions',
  tags,
  summary: 'Freeze the approved contributions into the next version (a draft until committed on chain)',
  description:
    'Returns the version number, Merkle root, count and manifest CID to pass to DataNetRegistry.commitVersion.',
  params: dataNetParams,
  response: versionView,
});

export const listVersions = route({
  method: 'GET',
  path: '/v1/datanets/:id/versions',
  tags,
  summary: 'Versions (drafts and published)',
  params: dataNetParams,
  response: z.object({ items: z.array(versionView) }),
});

export const getVersion = route({
  method: 'GET',
  path: '/v1/datanets/:id/versions/:version',
  tags,
  summary: 'One version; reads the chain first, so a just-committed draft shows as published',
  params: versionParams,
  response: versionView,
});

export const getManifest = route({
  method: 'GET',
  path: '/v1/datanets/:id/versions/:version/manifest',
  tags,
  summary: 'The content-addressed manifest of a version',
  params: versionParams,
  response: versionManifest,
});

export const exportVersion = route({
  method: 'GET',
  path: '/v1/datanets/:id/versions/:version/export',
  tags,
  summary:
    'A published version as JSON lines, every row in leaf order: live rows with content and text, withdrawn rows flagged without them',
  params: versionParams,
  contentType: 'application/x-ndjson',
  response: versionExportLine,
});

// ---------------------------------------------------------------------------------------------------------------
// Proofs and withdrawal

export const inclusionProof = z.object({
  contributionId: bytes32,
  dataNetId: decimalString,
  version: versionNumber,
  root: bytes32,
  contributor: address,
  contentHash: bytes32,
  licenseId: bytes32,
  /** Sibling hashes from the leaf up. */
  proof: z.array(bytes32),
  verifiedOffline: z.boolean(),
  /** DataNetRegistry.verifyContribution's answer. */
  verifiedOnChain: z.boolean(),
});
export type InclusionProof = z.output<typeof inclusionProof>;

export const getProof = route({
  method: 'GET',
  path: '/v1/contributions/:contributionId/proof',
  tags,
  summary: 'Merkle inclusion proof, checked offline and through DataNetRegistry.verifyContribution',
  params: contributionParams,
  query: z.object({ version: positiveIntParam.optional() }),
  response: inclusionProof,
});

export const withdrawalRequest = z.object({ nonce: decimalString, deadline: decimalString, signature: z.string() });
export type WithdrawalBody = z.output<typeof withdrawalRequest>;

export const withdrawalResult = z.object({
  contributionId: bytes32,
  withdrawnAt: isoDate,
  /** The first version that does not contain it. */
  absentFromVersion: versionNumber,
  /** The last published version that still contains its leaf (roots are immutable). */
  lastVersionContaining: versionNumber.nullable(),
});
export type WithdrawalView = z.output<typeof withdrawalResult>;

export const withdrawContribution = route({
  method: 'POST',
  path: '/v1/contributions/:contributionId/withdraw',
  tags,
  summary: 'Withdraw a contribution (contributor-signed): tombstoned, content deleted, absent from the next version on',
  params: contributionParams,
  body: withdrawalRequest,
  response: withdrawalResult,
});
