export { at, errnoCode } from './checked.js';
export { type Config, loadConfig } from './config.js';
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
  errorCodes,
  exitCodeByCode,
  httpStatusByCode,
  isErrorCode,
  isRetryable,
  messageOf,
  openAiErrorOf,
  toBaseError,
} from './errors.js';
export { failpoint } from './failpoint.js';
export { cidFromSha256, cidOf, type Hex, hashObject, keccak256, sha256 } from './hash.js';
export { bigintReplacer, canonicalJson, lineColumn, parseJson } from './json.js';
export { createLogger, type Logger, silentLogger } from './log.js';
export { recoverSigner } from './secp256k1.js';
export { version } from './version.js';
