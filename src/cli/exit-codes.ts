/** The process exit code of each error code: derived from the one error table, `errorTable` in core/errors.ts. */
export { exitCodeByCode } from '../core/index.js';
