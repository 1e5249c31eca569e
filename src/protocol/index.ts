/**
 * The protocol layer: every artifact that crosses a folder, process or trust boundary, defined once as a zod
 * schema with its inferred type — HTTP routes (request and response), the files anyone can recompute from
 * (version exports, manifests, receipts, epoch exports) and payment headers. Above core, below every domain.
 */
export * from './artifacts/index.js';
export {
  type CallInput,
  createNodeClient,
  errorBody,
  errorFromResponse,
  type NodeClient,
  type NodeClientOptions,
} from './client.js';
export type {
  ContributionPage,
  ContributionView,
  DataNetMetadataDocument,
  DataNetView,
  InclusionProof,
  ReviewOutcome,
  ReviewRecordView,
  SubmissionOutcome,
  VersionView,
  WithdrawalView,
} from './http/datanets.js';
export * as datanetsApi from './http/datanets.js';
export type { BaseModelInfo, FineTuneJob, JobEvent as FineTuneJobEvent } from './http/factory.js';
export * as factoryApi from './http/factory.js';
export * as nodeApi from './http/node.js';
export type {
  AdapterCacheView,
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  CompletionRequest,
  FinishReason,
  ListedModel,
  ModelRecord,
  ModelVersionRecord,
  OpenAiErrorBody,
  PaymentOutcome,
  PaymentSummary,
  ReceiptRef,
  RetrievedPassage,
  ServedModel,
  TextCompletion,
  TextCompletionChunk,
  TributaryField,
} from './http/openlora.js';
export * as openloraApi from './http/openlora.js';
export type {
  AttributionView,
  ChannelView,
  EarningsView,
  EpochVerificationView,
  EpochView,
  PayoutView,
  Quote,
  QuoteRequest,
  ReceiptView,
  SettlementInfo,
} from './http/settlement.js';
export * as settlementApi from './http/settlement.js';
export {
  type PayableRequest,
  type PaymentCheck,
  type PaymentGate,
  type PaymentHooks,
  type PaymentSession,
  paymentGate,
  type ServedAnswer,
} from './payment-hooks.js';
export {
  address,
  bytes32,
  cid,
  decimalId,
  hex,
  isoDate,
  positiveIntParam,
  signature,
  uintString,
  wei,
} from './primitives.js';
export { type Method, type RouteDef, type RouteInput, type RouteOutput, route } from './route.js';
export { type RouteHandler, type RouteRequest, serve } from './server.js';
export {
  disconnectSignal,
  type EventData,
  type EventStream,
  type EventStreamOptions,
  encodeEvent,
  eventStream,
  type StreamingRoute,
  streamEvents,
} from './sse.js';
