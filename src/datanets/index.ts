export {
  addCuratorOnChain,
  commitVersionOnChain,
  createDataNetClient,
  createDataNetOnChain,
  type DataNetClient,
  depositBondOnChain,
  forfeitBondOnChain,
  removeCuratorOnChain,
  signContributions,
  signedContributionOf,
  signReview,
  signWithdrawal,
} from './client.js';
export type { ReviewResult, ReviewSubmission } from './curation.js';
export { checkPinnedExport, withdrawnTextsFrom } from './export-check.js';
export { contributionId, type Submission, type SubmissionResult } from './ingest.js';
export type { DataNetMetadata } from './metadata.js';
export { formatFromName, inputFormats, parseRows } from './parse.js';
export { type PiiAction, type PiiKind, piiKinds } from './pii.js';
export { dataNetRoutes } from './routes.js';
export { createDataNetService, type DataNetService } from './service.js';
export { newNonce, signDataNetMessage, verifyDataNetMessage } from './signatures.js';
export { dataNetRegistryMirror } from './sync.js';
export { type SignedWithdrawal, withdrawalsOf } from './withdrawn-at.js';
