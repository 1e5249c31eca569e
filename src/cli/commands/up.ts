/**
 * `tributary up` (the whole node) and `tributary chain up` (the chain and the contracts).
 *
 * Definitions only: the actions are in up-actions.ts, imported when a command runs.
 */
import type { Command } from 'commander';
import { lazyAction } from './define.js';

const actions = () => import('./up-actions.js');

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start the whole node: local chain (or --rpc) with contracts, database, and the HTTP API')
    .option('--port <port>', 'API port (0 = a free port)')
    .option('--host <host>', 'API interface')
    .option('--rpc <url>', 'use an existing EVM chain instead of a local anvil')
    .option('--chain-port <port>', 'local anvil port (0 = a free port)')
    .option('--database-url <url>', 'Postgres server instead of the embedded PGlite')
    .option('--gpu <mode>', 'auto: serve registered base models on a GPU when there is one; off (default): CPU')
    .action(lazyAction(actions, 'upNode'));
}

export function registerChain(program: Command): void {
  const chain = program.command('chain').description('the EVM chain and the protocol contracts');
  chain
    .command('up')
    .description('start a local anvil chain and deploy the contracts (or deploy to --rpc URL and exit)')
    .option('--rpc <url>', 'deploy to this existing chain instead of starting anvil')
    .option('--chain-port <port>', 'local anvil port (0 = a free port)')
    .action(lazyAction(actions, 'upChain'));
}
