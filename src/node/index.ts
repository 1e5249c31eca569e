export { operatorGuard } from './operator.js';
export { createServer } from './server.js';
export { type NodeUp, nodeUp } from './system.js';
