export { createNodeAttribution, servedAttributionMethods } from './attribution.js';
export { httpStatusByCode } from './http-errors.js';
export { createServer, type NodeContext, type RoutePlugin, toHttpError } from './server.js';
export { bindStoreToDeployment, checkChainNotBehind, type NodeRoles, type NodeUp, nodeUp } from './system.js';
