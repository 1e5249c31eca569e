export { computeFee, type FeeBreakdown, type FeeParams, type Prices } from './fees.js';
export {
  computeEpochPayouts,
  type EpochPayoutInput,
  type EpochPayouts,
  type PayableReceipt,
  type PayoutRole,
  payoutLeaf,
  payoutRoles,
} from './payouts.js';
