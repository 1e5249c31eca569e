/**
 * The protocol layer: every artifact that crosses a folder, process or trust boundary, defined once as a zod
 * schema with its inferred type — HTTP routes (request and response), the files anyone can recompute from
 * (version exports, manifests, receipts, epoch exports) and payment headers. Above core, below every domain.
 */
export {
  type AttributionMethod,
  type AttributionResult,
  attributionMethod,
  attributionMethods,
  type ContributionShare,
  type CorpusRow,
  decodeArtifact,
  EPOCH_EXPORT_VERSION,
  type EpochReceiptsExport,
  type ExportedReceipt,
  type ExportedWithdrawal,
  encodeAuthorizationHeader,
  encodeVoucherHeader,
  type FeeBreakdown,
  feeBreakdown,
  GRADIENT_INDEX_VERSION,
  type GradientIndexHeader,
  gradientIndexHeader,
  inArrivalOrder,
  jsonObject,
  MAX_ROW_CHARS,
  MAX_UINT256,
  type Manifest,
  type ManifestEntry,
  type NodeReceipt,
  nodeReceipt,
  parseAuthorizationHeader,
  parseCorpus,
  parseEpochExport,
  parseEpochPayoutsExport,
  parseManifest,
  parsePinnedExport,
  parseVersionExport,
  parseVoucherHeader,
  paymentHeaders,
  type ReceiptMessage,
  type TrainingReceipt,
  trainingReceiptOf,
  VERSION_EXPORT_FORMAT,
  type VersionExportLine,
  type VersionExportRow,
} from './artifacts/index.js';
export {
  // CallInput and NodeClientOptions: unused in this repo, kept for the node's other clients (the web app types its
  // calls and its paying fetch with them).
  type CallInput,
  createNodeClient,
  errorBody,
  type NodeClient,
  type NodeClientOptions,
} from './client.js';
export type { ContributionView, DataNetView, VersionView, WithdrawalView } from './http/datanets.js';
export * as datanetsApi from './http/datanets.js';
export type { FineTuneJob, JobEvent as FineTuneJobEvent } from './http/factory.js';
export * as factoryApi from './http/factory.js';
export * as nodeApi from './http/node.js';
export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionRequest,
  FinishReason,
  ListedModel,
  ModelRecord,
  OpenAiErrorBody,
  PaymentOutcome,
  RetrievedPassage,
  ServedModel,
  TextCompletion,
  TextCompletionChunk,
  TributaryField,
} from './http/openlora.js';
export * as openloraApi from './http/openlora.js';
export type { EarningsView, EpochView } from './http/settlement.js';
export * as settlementApi from './http/settlement.js';
export {
  type PayableRequest,
  type PaymentCheck,
  type PaymentGate,
  type PaymentHooks,
  paymentGate,
  type ServedAnswer,
} from './payment-hooks.js';
export { bytes32, uintString } from './primitives.js';
export type { RouteDef, RouteInput, RouteOutput } from './route.js';
export { type RouteRequest, serve } from './server.js';
export { disconnectSignal, type EventData, type StreamingRoute, streamEvents } from './sse.js';
