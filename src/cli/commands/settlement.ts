/**
 * Paying for inference and getting paid: `tributary quote`, `channel open|show|close`, `earnings`, `claim`, and
 * the operator's `epoch close|finalize` plus anyone's `epoch list|show|verify|export|challenge`.
 *
 * Definitions only: the actions are in settlement-actions.ts, imported when a command runs.
 */
import type { Command } from 'commander';
import { lazyAction, withRemoteOptions } from './define.js';

const actions = () => import('./settlement-actions.js');

export function registerSettlement(program: Command): void {
  withRemoteOptions(
    program
      .command('quote')
      .description('the most a request can cost and how its fee splits, before anything is spent')
      .requiredOption('--model <model>', 'model name or id')
      .option('--prompt <text>', 'a text-completion prompt')
      .option('--message <text>', 'a chat message (as the user)')
      .option('--max-tokens <n>', 'most output tokens', '64'),
  ).action(lazyAction(actions, 'quote'));

  const channel = program.command('channel').description('payment channels to a serving node');
  withRemoteOptions(
    channel
      .command('open')
      .description('deposit OPEN into a channel to the node (one transaction, with a permit)')
      .requiredOption('--deposit <open>', 'OPEN to deposit')
      .option('--days <n>', 'days before you may close it and take back the rest', '30'),
  ).action(lazyAction(actions, 'channelOpen'));
  withRemoteOptions(
    channel.command('show <id>').description('a channel as the node sees it: deposit, charged, vouchers'),
  ).action(lazyAction(actions, 'channelShow'));
  withRemoteOptions(
    channel.command('close <id>').description('after expiry: take back what the node did not redeem'),
  ).action(lazyAction(actions, 'channelClose'));

  withRemoteOptions(
    program
      .command('earnings <address>')
      .description('what an address earned and why: per model, contribution, DataNet and stake'),
  ).action(lazyAction(actions, 'earnings'));

  withRemoteOptions(
    program
      .command('claim <addresses...>')
      .description('claim payouts under the finalized root (for any addresses; one transaction)'),
  ).action(lazyAction(actions, 'claim'));

  const epoch = program
    .command('epoch')
    .description('settlement epochs: close and finalize (operator), list, show, verify, export, challenge');
  withRemoteOptions(
    epoch
      .command('close')
      .description('close the next epoch: redeem vouchers, compute payouts, post the root (operator)'),
  ).action(lazyAction(actions, 'epochClose'));
  withRemoteOptions(
    epoch.command('finalize <epoch>').description('finalize a posted epoch after its challenge window (operator)'),
  ).action(lazyAction(actions, 'epochFinalize'));
  withRemoteOptions(epoch.command('list').description("the node's epochs")).action(lazyAction(actions, 'epochList'));
  withRemoteOptions(epoch.command('show <epoch>').description('one epoch and its payouts by role')).action(
    lazyAction(actions, 'epochShow'),
  );
  withRemoteOptions(
    epoch
      .command('verify <epoch>')
      .description(
        'audit a posted epoch here: its export (by the CID on chain) recomputed receipt by receipt — attribution hashes, withdrawal signatures, fee splits — and compared with the chain',
      )
      .option('--export <file>', "the receipts export to audit (default: the posted CID from the node's blob store)")
      .option('--payouts <file>', "the previous epoch's payouts export (default: from the node's blob store)")
      .option('--node <address>', "whose epoch (default: the node at --api's)"),
  ).action(lazyAction(actions, 'epochVerify'));
  withRemoteOptions(
    epoch
      .command('export <epoch>')
      .description("write the epoch's receipts export (what its CID names)")
      .requiredOption('--out <file>', 'where to write it'),
  ).action(lazyAction(actions, 'epochExport'));
  withRemoteOptions(
    epoch
      .command('challenge <epoch>')
      .description(
        "challenge a node's pending epoch with the bond (stakers only); governance resolves it in time or it is void",
      )
      .option('--node <address>', "whose epoch (default: the node at --node-url's)"),
  ).action(lazyAction(actions, 'epochChallenge'));
}
