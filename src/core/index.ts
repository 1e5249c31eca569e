export { at, errnoCode } from './checked.js';
export { type Config, configFields, type LoadConfigInput, loadConfig } from './config.js';
export {
  dataNetDomain,
  dataNetTypes,
  escrowDomain,
  openTokenDomain,
  permitTypes,
  receiptDomain,
  receiptTypes,
  requestAuthorizationTypes,
  voucherTypes,
} from './eip712.js';
export {
  BaseError,
  type BaseErrorOptions,
  type ErrorCode,
  type ErrorCodeSpec,
  type ExitCode,
  errorCodes,
  errorTable,
  exitCodeByCode,
  exitCodes,
  httpStatusByCode,
  isBaseError,
  isErrorCode,
  isRetryable,
  messageOf,
  type OpenAiError,
  type OpenAiErrorType,
  openAiErrorOf,
  toBaseError,
} from './errors.js';
export { failpoint } from './failpoint.js';
export { base32, cidFromSha256, cidOf, type Hex, hashObject, keccak256, sha256 } from './hash.js';
export { bigintReplacer, canonicalJson, jsonErrorOffset, lineColumn, parseJson } from './json.js';
export { createLogger, type Logger, type LogLevel, logLevels, silentLogger } from './log.js';
export { recoverSigner } from './secp256k1.js';
export { version } from './version.js';
