/**
 * Helpers for defining commands. Defining the program (commands, options, help text) loads only commander and
 * the definition files in this folder, so `tributary --version` and `--help` start fast; a command's action
 * lives in `<x>-actions.ts` (which loads the domain folders) and is imported when the command runs. A definition
 * file may import other files only as types, or lazily through `import()` (define.test.ts checks this).
 */
import type { Command } from 'commander';

/** Adds --api, --rpc, --key-env and --dev-account to a command. */
export function withRemoteOptions(cmd: Command): Command {
  return cmd
    .option('--api <url>', 'node API (default $TRIBUTARY_API or http://127.0.0.1:7420)')
    .option('--rpc <url>', 'chain RPC for transactions (default: the one the node reports)')
    .option('--key-env <name>', 'environment variable holding your private key', 'TRIBUTARY_PRIVATE_KEY')
    .option('--dev-account <n>', 'sign with anvil dev account n (local chains only)');
}

/**
 * A commander action that imports its module when the command runs and calls the module's function `name`
 * with commander's arguments (the command's arguments, then its options, then the command).
 */
export function lazyAction<K extends PropertyKey, M extends Record<K, (...args: never[]) => unknown>>(
  load: () => Promise<M>,
  name: K,
): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    await Reflect.apply((await load())[name], undefined, args);
  };
}
