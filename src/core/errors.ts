/**
 * One error type for the whole project. Each error has a stable `code`, a short human message that tests check
 * word for word, and structured `details` naming what was wrong and where (file, line, field).
 *
 * `errorTable` is the one table of what each code means everywhere: its HTTP status (the node's API), its process
 * exit code (the CLI), whether retrying the same call may succeed (the job runner), and its OpenAI error `type`
 * (the OpenAI-compatible routes). Everything else derives from it.
 */

/** Process exit codes (docs/architecture.md#errors); 0 is success. */
export const exitCodes = {
  internal: 1,
  invalidInput: 2,
  config: 3,
  notFound: 4,
  conflict: 5,
  unauthorized: 6,
  unavailable: 7,
  contractReverted: 8,
  deployment: 9,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The `error.type` values of OpenAI's API (and of the clients built for it) that this project uses. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'insufficient_quota'
  | 'rate_limit_error'
  | 'server_error';

export interface ErrorCodeSpec {
  /** What the code means. */
  description: string;
  /** The node API's HTTP status. */
  http: number;
  /** The CLI's exit code. */
  exit: ExitCode;
  /** Whether the same call may succeed later (transient: unreachable, busy, too slow, or unexpected). */
  retryable: boolean;
  /** The OpenAI-compatible API's `error.type`, and its `error.code` when not the code in lower case. */
  openAi: {
    type: OpenAiErrorType;
    /** Chooses an OpenAI `error.code` from the error's details; undefined: the code in lower case. */
    code?: (details: Record<string, unknown>) => string | undefined;
  };
}

const x = exitCodes;
const invalidRequest = { type: 'invalid_request_error' } as const;
const serverError = { type: 'server_error' } as const;

/** Every error code, with what it means and how each surface shows it. Codes are API: never rename one, only add. */
export const errorTable = {
  INVALID_ARGUMENT: {
    description: 'A request, flag or input value is malformed or out of range.',
    http: 400,
    exit: x.invalidInput,
    retryable: false,
    openAi: invalidRequest,
  },
  CONFIG_INVALID: {
    description: 'The configuration (flags, environment or config file) is invalid.',
    http: 400,
    exit: x.config,
    retryable: false,
    openAi: invalidRequest,
  },
  NOT_FOUND: {
    description: 'The thing asked for does not exist.',
    http: 404,
    exit: x.notFound,
    retryable: false,
    // OpenAI answers an unknown model with 404, invalid_request_error, code model_not_found. The error is about a
    // model when its details name one (`details.model`), never judged from the message.
    openAi: { type: 'invalid_request_error', code: (d) => (d.model === undefined ? undefined : 'model_not_found') },
  },
  CONFLICT: {
    description: 'The request conflicts with existing state.',
    http: 409,
    exit: x.conflict,
    retryable: false,
    openAi: invalidRequest,
  },
  UNAUTHORIZED: {
    description: 'The request lacks valid credentials or signature.',
    http: 401,
    exit: x.unauthorized,
    retryable: false,
    openAi: { type: 'authentication_error' },
  },
  FORBIDDEN: {
    description: 'The caller is authenticated but may not do this.',
    http: 403,
    exit: x.unauthorized,
    retryable: false,
    openAi: { type: 'permission_error' },
  },
  PAYLOAD_TOO_LARGE: {
    description: 'The input exceeds a size limit.',
    http: 413,
    exit: x.invalidInput,
    retryable: false,
    openAi: invalidRequest,
  },
  RATE_LIMITED: {
    description: 'Too many requests; retry later.',
    http: 429,
    exit: x.unavailable,
    retryable: true,
    openAi: { type: 'rate_limit_error' },
  },
  CHAIN_UNAVAILABLE: {
    description: 'The EVM node cannot be reached or did not start.',
    http: 503,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  NODE_UNAVAILABLE: {
    description: 'The Tributary node API cannot be reached.',
    http: 503,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  ADAPTER_UNAVAILABLE: {
    description: 'A model adapter is not available on this node.',
    http: 503,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  ADAPTER_INVALID: {
    description: 'A model adapter does not match its registered hash or cannot be loaded.',
    http: 502,
    exit: x.deployment,
    retryable: false,
    openAi: serverError,
  },
  TIMEOUT: {
    description: 'The request took longer than its time limit.',
    http: 504,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  PAYMENT_REQUIRED: {
    description: 'The request needs a valid payment (voucher) first.',
    http: 402,
    exit: x.unauthorized,
    retryable: false,
    // OpenAI's billing refusal; its own status for it is 429, which OpenAI clients retry, so we keep 402.
    openAi: { type: 'insufficient_quota' },
  },
  CHAIN_MISMATCH: {
    description: 'The data directory or deployment belongs to another chain.',
    http: 409,
    exit: x.conflict,
    retryable: false,
    openAi: invalidRequest,
  },
  DEPLOYMENT_INVALID: {
    description: 'The deployment file is missing, malformed or does not match the chain.',
    http: 500,
    exit: x.deployment,
    retryable: false,
    openAi: serverError,
  },
  CONTRACT_REVERTED: {
    description: 'A contract call reverted.',
    http: 422,
    exit: x.contractReverted,
    retryable: false,
    openAi: invalidRequest,
  },
  STORE_UNAVAILABLE: {
    description: 'The database cannot be opened or reached.',
    http: 503,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  MIGRATION_FAILED: {
    description: 'A database migration failed or an applied migration was changed.',
    http: 500,
    exit: x.deployment,
    retryable: false,
    openAi: serverError,
  },
  PROCESS_FAILED: {
    description: 'A child process (such as anvil) failed.',
    http: 500,
    exit: x.unavailable,
    retryable: true,
    openAi: serverError,
  },
  MODEL_INVALID: {
    description: 'A model, adapter or tokenizer file is corrupt, truncated or inconsistent.',
    http: 422,
    exit: x.invalidInput,
    retryable: false,
    openAi: invalidRequest,
  },
  MODEL_UNSUPPORTED: {
    description: 'A model file uses an architecture, tensor type or format version the engine does not support.',
    http: 422,
    exit: x.invalidInput,
    retryable: false,
    openAi: invalidRequest,
  },
  INDEX_INVALID: {
    description: 'A span index is missing a file, corrupt, truncated, or was built with another tokenizer.',
    http: 422,
    exit: x.invalidInput,
    retryable: false,
    openAi: invalidRequest,
  },
  INTERNAL: {
    description: 'An unexpected internal error.',
    http: 500,
    exit: x.internal,
    // Unexpected, so possibly transient (a crash, a lost connection): jobs retry it with backoff up to their limit.
    retryable: true,
    openAi: serverError,
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof errorTable;

const allCodes: readonly ErrorCode[] = Object.keys(errorTable).filter(isErrorCode);
// Object.fromEntries is typed with string keys: that every code is there is what mapping allCodes makes true.
const byCode = <T>(f: (spec: ErrorCodeSpec, code: ErrorCode) => T): Record<ErrorCode, T> =>
  Object.fromEntries(allCodes.map((c) => [c, f(errorTable[c], c)])) as Record<ErrorCode, T>;

/** Every error code with what it means (from `errorTable`); `code in errorCodes` tells a known code. */
export const errorCodes: Readonly<Record<ErrorCode, string>> = byCode((s) => s.description);
/** The node API's HTTP status of each code (from `errorTable`). */
export const httpStatusByCode: Readonly<Record<ErrorCode, number>> = byCode((s) => s.http);
/** The CLI's exit code of each code (from `errorTable`). */
export const exitCodeByCode: Readonly<Record<ErrorCode, ExitCode>> = byCode((s) => s.exit);

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorTable, code);
}

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

/** The message of anything thrown: an Error's message, anything else as a string. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Wraps anything thrown into a BaseError, keeping BaseErrors as they are. */
export function toBaseError(e: unknown, code: ErrorCode = 'INTERNAL'): BaseError {
  if (e instanceof BaseError) return e;
  return new BaseError(code, messageOf(e), { cause: e });
}

/** Whether retrying what threw `e` may succeed (`errorTable`); anything but a BaseError counts as INTERNAL. */
export function isRetryable(e: unknown): boolean {
  return errorTable[toBaseError(e).code].retryable;
}

export interface OpenAiError {
  status: number;
  /** OpenAI's error body: `{"error": {message, type, param, code}}`. */
  body: { error: { message: string; type: OpenAiErrorType; param: string | null; code: string } };
}

/** How the OpenAI-compatible API answers `e`: the code's HTTP status, OpenAI type and code (`errorTable`). */
export function openAiErrorOf(e: BaseError): OpenAiError {
  const spec: ErrorCodeSpec = errorTable[e.code];
  const field = e.details.field;
  return {
    status: spec.http,
    body: {
      error: {
        message: e.message,
        type: spec.openAi.type,
        param: typeof field === 'string' ? field : null,
        code: spec.openAi.code?.(e.details) ?? e.code.toLowerCase(),
      },
    },
  };
}
