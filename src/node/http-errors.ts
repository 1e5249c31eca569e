/** The HTTP status of each error code: derived from the one error table, `errorTable` in core/errors.ts. */
export { httpStatusByCode } from '../core/index.js';
