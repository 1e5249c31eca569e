/**
 * `tributary ask`: one paid question from the command line, signed with the caller's key (how: ask-actions.ts).
 *
 * Definitions only: the action is in ask-actions.ts, imported when the command runs.
 */
import type { Command } from 'commander';
import { lazyAction, withRemoteOptions } from './define.js';

const actions = () => import('./ask-actions.js');

export function registerAsk(program: Command): void {
  withRemoteOptions(
    program
      .command('ask <question>')
      .description('ask a model one question, paying on your channel with an authorization and a voucher you sign')
      .requiredOption('--model <model>', 'model name or id')
      .requiredOption('--channel <id>', 'your payment channel to the node (tributary channel open)')
      .option('--max-tokens <n>', 'most output tokens (default: 64, or what the context leaves after the prompt)')
      .option('--max-fee <open>', 'refuse before generation if the answer could cost more than this many OPEN')
      .option('--retrieval', "put passages of the model's DataNet before the question (they earn when used)"),
  ).action(lazyAction(actions, 'ask'));
}
