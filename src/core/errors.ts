/**
 * One error type for the whole project. Each error has a stable `code` (API clients, the HTTP status table in
 * node/ and the exit-code table in cli/ key on it), a short human message that tests check word for word, and
 * structured `details` naming what was wrong and where (file, line, field).
 */

/** Every error code, with what it means. Codes are API: never rename one, only add. */
export const errorCodes = {
  INVALID_ARGUMENT: 'A request, flag or input value is malformed or out of range.',
  CONFIG_INVALID: 'The configuration (flags, environment or config file) is invalid.',
  NOT_FOUND: 'The thing asked for does not exist.',
  CONFLICT: 'The request conflicts with existing state.',
  UNAUTHORIZED: 'The request lacks valid credentials or signature.',
  FORBIDDEN: 'The caller may not do this.',
  PAYLOAD_TOO_LARGE: 'The input exceeds a size limit.',
  RATE_LIMITED: 'Too many requests; retry later.',
  CHAIN_UNAVAILABLE: 'The EVM node cannot be reached or did not start.',
  NODE_UNAVAILABLE: 'The Tributary node API cannot be reached.',
  ADAPTER_UNAVAILABLE: 'A model adapter is not available on this node.',
  ADAPTER_INVALID: 'A model adapter does not match its registered hash or cannot be loaded.',
  TIMEOUT: 'The request took longer than its time limit.',
  PAYMENT_REQUIRED: 'The request needs a valid payment (voucher) first.',
  CHAIN_MISMATCH: 'The data directory or deployment belongs to another chain.',
  DEPLOYMENT_INVALID: 'The deployment file is missing, malformed or does not match the chain.',
  CONTRACT_REVERTED: 'A contract call reverted.',
  STORE_UNAVAILABLE: 'The database cannot be opened or reached.',
  MIGRATION_FAILED: 'A database migration failed or an applied migration was changed.',
  PROCESS_FAILED: 'A child process (such as anvil) failed.',
  MODEL_INVALID: 'A model, adapter or tokenizer file is corrupt, truncated or inconsistent.',
  MODEL_UNSUPPORTED: 'A model file uses an architecture, tensor type or format version the engine does not support.',
  INDEX_INVALID: 'A span index is missing a file, corrupt, truncated, or was built with another tokenizer.',
  INTERNAL: 'An unexpected internal error.',
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface BaseErrorOptions {
  /** Structured facts about the failure: the field, file, line, value that was wrong. */
  details?: Record<string, unknown>;
  /** Path under docs/ that explains the error and its fixes. */
  docsPath?: string;
  cause?: unknown;
}

export class BaseError extends Error {
  override readonly name = 'TributaryError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly docsPath: string | undefined;

  constructor(code: ErrorCode, message: string, options: BaseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    this.docsPath = options.docsPath;
  }

  /** The shape every API error body and `--json` error line uses. */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown>; docs?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
      ...(this.docsPath ? { docs: this.docsPath } : {}),
    };
  }
}

export function isBaseError(e: unknown): e is BaseError {
  return e instanceof BaseError;
}

/** Wraps anything thrown into a BaseError, keeping BaseErrors as they are. */
export function toBaseError(e: unknown, code: ErrorCode = 'INTERNAL'): BaseError {
  if (e instanceof BaseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new BaseError(code, message, { cause: e });
}
