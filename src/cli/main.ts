/** The `tributary` command. */
import { Command, CommanderError } from 'commander';
import { bigintReplacer, version } from '../core/index.js';
import { registerAsk } from './commands/ask.js';
import { registerAttribution } from './commands/attribution.js';
import { registerDataNet } from './commands/datanet.js';
import { registerModel } from './commands/model.js';
import { registerServe } from './commands/serve.js';
import { registerSettlement } from './commands/settlement.js';
import { registerChain, registerUp } from './commands/up.js';
import { runDemo } from './demo/run.js';
import { configFrom, isJson, loggerFor } from './options.js';
import { createOutput, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description(
      'Tributary: a Payable AI ledger — DataNets, ModelFactory, OpenLoRA, Proof of Attribution, OPEN settlement',
    )
    .version(version, '-V, --version')
    // Program options are read only before the command, so that commands can have options such as --version N.
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();

  registerUp(program);
  registerChain(program);
  registerDataNet(program);
  registerModel(program);
  registerServe(program);
  registerSettlement(program);
  registerAttribution(program);
  registerAsk(program);

  program
    .command('demo')
    .description('run the whole loop non-interactively on a fresh local chain; non-zero exit if a stage fails')
    .option('--keep', 'keep the temporary data directory')
    .action(async (opts: { keep?: boolean }, cmd: Command) => {
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
    });
  addCommonOptions(program);
  return program;
}

/** Every command that does something takes the same output, data and logging options. */
function addCommonOptions(cmd: Command): void {
  for (const sub of cmd.commands) {
    if (sub.commands.length > 0) {
      addCommonOptions(sub);
      continue;
    }
    sub
      .option('--json', 'print one JSON line of results on stdout (errors too)')
      .option('--data-dir <dir>', 'data directory (default .tributary; env TRIBUTARY_DATA_DIR)')
      .option('--config <file>', 'JSON config file (default <data-dir>/tributary.json)')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (logs go to stderr)');
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // help/version, or a usage error commander printed
    return reportError(e, argv.includes('--json'));
  }
}
