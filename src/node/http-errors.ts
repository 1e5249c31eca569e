/** The one table from error codes to HTTP statuses. */
import type { ErrorCode } from '../core/index.js';

export const httpStatusByCode: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  CONFIG_INVALID: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  CHAIN_UNAVAILABLE: 503,
  CHAIN_MISMATCH: 409,
  DEPLOYMENT_INVALID: 500,
  CONTRACT_REVERTED: 422,
  STORE_UNAVAILABLE: 503,
  MIGRATION_FAILED: 500,
  PROCESS_FAILED: 500,
  INTERNAL: 500,
};
