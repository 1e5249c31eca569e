#!/usr/bin/env node
// The `tributary` command. Runs the compiled CLI (npm ci / npm run build produce dist/).
import { main } from '../dist/cli/index.js';

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
