/** The one table from error codes to process exit codes (0 = success, 1 = unexpected). */
import type { ErrorCode } from '../core/index.js';

export const exitCodeByCode: Record<ErrorCode, number> = {
  INTERNAL: 1,
  INVALID_ARGUMENT: 2,
  PAYLOAD_TOO_LARGE: 2,
  MODEL_INVALID: 2,
  MODEL_UNSUPPORTED: 2,
  INDEX_INVALID: 2,
  CONFIG_INVALID: 3,
  NOT_FOUND: 4,
  CONFLICT: 5,
  CHAIN_MISMATCH: 5,
  UNAUTHORIZED: 6,
  FORBIDDEN: 6,
  CHAIN_UNAVAILABLE: 7,
  NODE_UNAVAILABLE: 7,
  ADAPTER_UNAVAILABLE: 7,
  ADAPTER_INVALID: 9,
  TIMEOUT: 7,
  PAYMENT_REQUIRED: 6,
  STORE_UNAVAILABLE: 7,
  RATE_LIMITED: 7,
  PROCESS_FAILED: 7,
  CONTRACT_REVERTED: 8,
  DEPLOYMENT_INVALID: 9,
  MIGRATION_FAILED: 9,
};
