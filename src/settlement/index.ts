export { type ChannelRecord, type Channels, createChannelMirror, createChannels } from './channels.js';
export {
  challengeEpoch,
  claimPayouts,
  closeChannel,
  createPayingFetch,
  type OpenChannelInput,
  openChannel,
  type PayingFetchOptions,
  tryWithoutAuthorization,
} from './client.js';
export { createEarnings, type Earnings, type EarningsLine } from './earnings.js';
export {
  type EpochReceiptsExport,
  type EpochVerification,
  type ExportedReceipt,
  parseEpochExport,
  parsePayoutsExport,
  payoutsOfExport,
  verifyEpochExport,
} from './epoch-export.js';
export { createEpochs, type EpochRecord, type Epochs } from './epochs.js';
export { computeFee, type FeeBreakdown, type FeeParams, type Prices } from './fees.js';
export { createParamsReader, type ParamsReader } from './params.js';
export {
  createPayments,
  type PayableModel,
  type PayableRequest,
  type Payments,
  pricesOf,
  refuseOverCap,
} from './payments.js';
export {
  computeEpochPayouts,
  type EpochPayoutInput,
  type EpochPayouts,
  type PayableReceipt,
  type PayoutRole,
  payoutLeaf,
  payoutRoles,
} from './payouts.js';
export {
  findReceipt,
  type ReceiptMessage,
  receiptId,
  receiptJson,
  receiptTypedData,
  type StoredReceipt,
  verifyReceipt,
} from './receipts.js';
export { earningsView, epochView, type SettlementRouteDeps, settlementRoutes } from './routes.js';
export { createSettlement, type Settlement, type SettlementDeps } from './service.js';
export {
  encodeAuthorizationHeader,
  encodeVoucherHeader,
  NO_FEE_CAP,
  type PaidRequestInput,
  paidRequestHeaders,
  parseAuthorizationHeader,
  parseVoucherHeader,
  paymentHeaders,
  type RequestAuthorization,
  requestAuthorizationDigest,
  requestAuthorizationSigner,
  requestBodyHash,
  signRequestAuthorization,
  signVoucher,
  type Voucher,
  type VoucherDomain,
  voucherDigest,
  voucherSigner,
} from './vouchers.js';
