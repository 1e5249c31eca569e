export { httpStatusByCode } from './http-errors.js';
export { createServer, errorBody, type NodeContext, toHttpError } from './server.js';
export { bindStoreToDeployment, type NodeUp, nodeUp } from './system.js';
