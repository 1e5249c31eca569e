/**
 * The `tributary` command. Defining the program loads only commander and the command definitions, so that
 * `--version` and `--help` start fast; each action imports its implementation when its command runs
 * (src/cli/commands/define.ts).
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerAsk } from './commands/ask.js';
import { registerAttribution } from './commands/attribution.js';
import { registerDataNet } from './commands/datanet.js';
import { lazyAction } from './commands/define.js';
import { registerModel } from './commands/model.js';
import { registerServe } from './commands/serve.js';
import { registerSettlement } from './commands/settlement.js';
import { registerChain, registerUp } from './commands/up.js';

/**
 * The package version, as core's `version` (package.json sits two levels above both src/cli and dist/cli), read
 * here because core's index loads viem and zod.
 */
export const version: string = versionOf(createRequire(import.meta.url)('../../package.json'));

function versionOf(pkg: unknown): string {
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string'
    ? pkg.version
    : '0.0.0';
}

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
    .action(lazyAction(() => import('./commands/demo-actions.js'), 'demo'));
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
    const { reportError } = await import('./output.js');
    return reportError(e, argv.includes('--json'));
  } finally {
    // With two jax-js threads its workers keep the process alive after a command that used them (an attribution
    // with gradients): every command has finished its work here (long-running ones have stopped), so end them.
    if (process.env.TRIBUTARY_JAX_THREADS === '2') await (await import('../engine/index.js')).stopJaxWorkers();
  }
}
