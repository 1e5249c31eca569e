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
export * as nodeApi from './http/node.js';
export type {
  ChannelView,
  EarningsView,
  EpochVerificationView,
  EpochView,
  PayoutView,
  Quote,
  QuoteRequest,
  SettlementInfo,
} from './http/settlement.js';
export * as settlementApi from './http/settlement.js';
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
