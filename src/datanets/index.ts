export {
  addCuratorOnChain,
  type ContributionJson,
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  type DataNetClient,
  type DataNetJson,
  depositBondOnChain,
  forfeitBondOnChain,
  removeCuratorOnChain,
  type SignedContribution,
  signContributions,
  signedContributionOf,
  signReview,
  signWithdrawal,
  type VersionJson,
  type WithdrawalJson,
} from './client.js';
export type { ReviewRecord, ReviewResult, ReviewSubmission } from './curation.js';
export { contributionId, MAX_BATCH, type Submission, type SubmissionResult, type SubmissionStatus } from './ingest.js';
export {
  type DataNetMetadata,
  type DataNetPolicy,
  licenseIdOf,
  metadataCommitments,
  metadataSchema,
  parseMetadata,
} from './metadata.js';
export { normalizeText, normalizeValue, textOf } from './normalize.js';
export {
  firstInvalidUtf8,
  formatFromName,
  type InputFormat,
  inputFormats,
  type ParsedRow,
  type ParseResult,
  parseRows,
  type RowError,
} from './parse.js';
export { findPii, type PiiAction, type PiiKind, type PiiPolicy, piiKinds } from './pii.js';
export type { ContributionView, DataNetSummary } from './queries.js';
export { dataNetRoutes } from './routes.js';
export { type PreparedRow, prepareRow } from './rows.js';
export { createDataNetService, type DataNetService, type DataNetServiceDeps } from './service.js';
export { type DataNetDomain, newNonce, reasonHashOf, signDataNetMessage, verifyDataNetMessage } from './signatures.js';
export { dataNetRegistryMirror } from './sync.js';
export type { Manifest, ManifestEntry, Proof, VersionInfo } from './versions.js';
export type { WithdrawalRequest, WithdrawalResult } from './withdrawal.js';
export { contributionsWithdrawnAt } from './withdrawn-at.js';
