/**
 * `tributary serve`: a serving node (OpenLoRA) for an existing deployment — the OpenAI-compatible API over every
 * model registered on the bundled base — and `tributary adapters …` to manage a node's adapter cache.
 *
 * Definitions only: the actions are in serve-actions.ts, imported when a command runs.
 */
import type { Command } from 'commander';
import type { RemoteOptions } from '../remote.js';
import { lazyAction, withRemoteOptions } from './define.js';

const actions = () => import('./serve-actions.js');

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'serve every model registered on the base models of the node through the OpenAI-compatible API, for an existing deployment',
    )
    .option('--rpc <url>', 'the chain of the deployment (default: the local chain of the data directory)')
    .option('--deployment <file>', 'a deployment file to serve (copied into the data directory)')
    .option('--port <port>', 'API port (0 = a free port)')
    .option('--host <host>', 'API interface')
    .option('--database-url <url>', 'Postgres server instead of the embedded PGlite')
    .option('--gpu <mode>', 'auto: serve registered base models on a GPU when there is one; off (default): CPU')
    .action(lazyAction(actions, 'serve'));

  const adapters = program.command('adapters').description("a serving node's adapter cache: list, pin, unpin, evict");
  withRemoteOptions(adapters.command('list').description('loaded adapters, memory and cache statistics')).action(
    lazyAction(actions, 'adaptersList'),
  );
  for (const action of ['pin', 'unpin', 'evict'] as const) {
    withRemoteOptions(
      adapters.command(`${action} <adapterHash>`).description(`${action} an adapter (by its 0x sha-256, or "base")`),
    ).action(async (hash: string, o: RemoteOptions, cmd: Command) =>
      (await actions()).adapterAction(action, hash, o, cmd),
    );
  }
}
