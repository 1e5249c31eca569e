/** The action of `tributary demo` (the command is defined in main.ts). */
import type { Command } from 'commander';
import { bigintReplacer } from '../../core/index.js';
import { runDemo } from '../demo/run.js';
import { configFrom, isJson, loggerFor } from '../options.js';
import { createOutput } from '../output.js';

export async function demo(opts: { keep?: boolean }, cmd: Command) {
  const config = configFrom(cmd);
  const json = isJson(cmd);
  const out = createOutput(json);
  const result = await runDemo({ config, log: loggerFor(config), out, keep: opts.keep === true });
  if (json) process.stdout.write(`${JSON.stringify(result, bigintReplacer)}\n`);
  else
    out.result(
      result,
      () => `${result.ok ? 'Demo passed' : 'Demo FAILED'}\n${JSON.stringify(result.stages, bigintReplacer, 2)}`,
    );
  process.exitCode = result.ok ? 0 : 1;
}
