export { createChannelMirror, createChannels } from './channels.js';
export {
  challengeEpoch,
  claimPayouts,
  closeChannel,
  createPayingFetch,
  openChannel,
  tryWithoutAuthorization,
} from './client.js';
export { auditEpoch } from './epoch-audit.js';
export { parseEpochExport, verifyEpochExport } from './epoch-export.js';
export { createEpochs } from './epochs.js';
export { computeFee } from './fees.js';
export { createParamsReader } from './params.js';
export type { PayableModel } from './payments.js';
export { payoutLeaf } from './payouts.js';
export { requestHashOf, verifyReceipt } from './receipts.js';
export { settlementRoutes } from './routes.js';
export { createSettlement, type Settlement } from './service.js';
export {
  encodeVoucherHeader,
  NO_FEE_CAP,
  paidRequestHeaders,
  paymentHeaders,
  signVoucher,
  voucherSigner,
} from './vouchers.js';
