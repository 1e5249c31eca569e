// main is the entry of bin/tributary.js (plain JS, which the API scan does not read): it imports dist/cli/index.js.
export { main } from './main.js';
