/**
 * The file artifacts: what is written once and read elsewhere (by the node, an auditor, the CLI) — each a zod
 * schema with its inferred type and one parse function that names the file, line and field of anything malformed.
 */
export {
  type AttributionMethod,
  type AttributionResult,
  attributionMethod,
  attributionMethods,
  attributionResult,
  type ContributionShare,
  contributionShare,
  parseAttributionResult,
} from './attribution-result.js';
export {
  EPOCH_EXPORT_VERSION,
  type EpochPayoutsExport,
  type EpochReceiptsExport,
  type ExportedReceipt,
  type ExportedWithdrawal,
  epochPayoutsExport,
  epochReceiptsExport,
  exportedReceipt,
  exportedWithdrawal,
  parseEpochExport,
  parseEpochPayoutsExport,
} from './epoch-export.js';
export { GRADIENT_INDEX_VERSION, type GradientIndexHeader, gradientIndexHeader } from './gradient-index.js';
export { type Manifest, type ManifestEntry, manifestEntry, parseManifest, versionManifest } from './manifest.js';
export {
  type FeeBreakdown,
  feeBreakdown,
  type NodeReceipt,
  nodeReceipt,
  parseNodeReceipt,
  type ReceiptMessage,
  receiptMessage,
} from './node-receipt.js';
export {
  decodeArtifact,
  isKind,
  type JsonLinesOptions,
  jsonOf,
  parseJsonArtifact,
  parseJsonLines,
} from './parse.js';
export {
  type AuthorizationHeader,
  authorizationHeader,
  encodeAuthorizationHeader,
  encodeVoucherHeader,
  MAX_UINT256,
  parseAuthorizationHeader,
  parseVoucherHeader,
  paymentHeaders,
  type VoucherHeader,
  voucherHeader,
} from './payment.js';
export {
  parseTrainingReceipt,
  TRAINING_RECEIPT_KIND,
  type TrainingReceipt,
  trainingReceipt,
  trainingReceiptOf,
} from './training-receipt.js';
export {
  type CorpusRow,
  corpusRow,
  inArrivalOrder,
  jsonObject,
  MAX_ROW_CHARS,
  parseCorpus,
  parsePinnedExport,
  parseVersionExport,
  VERSION_EXPORT_FORMAT,
  type VersionExportLine,
  type VersionExportRow,
  versionExportRow,
} from './version-export.js';
