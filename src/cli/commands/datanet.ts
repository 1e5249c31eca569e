/**
 * `tributary datanet …`: create DataNets, contribute rows from files, directories or stdin, review, publish,
 * inspect, export, prove and withdraw — as a user of a running node, signing with your own key.
 *
 * Definitions only: the actions are in datanet-actions.ts, imported when a command runs.
 */
import type { Command } from 'commander';
import { lazyAction, withRemoteOptions } from './define.js';

const actions = () => import('./datanet-actions.js');

// The datanets folder's piiKinds and inputFormats, copied so that the help needs no domain folder (define.test.ts
// checks that they agree).
const piiKinds = ['email', 'phone', 'credit_card', 'iban', 'ssn', 'ip_address'] as const;
const inputFormats = ['jsonl', 'csv', 'text', 'markdown'] as const;

export function registerDataNet(program: Command): void {
  const datanet = program
    .command('datanet')
    .description('community datasets: contribute, curate, publish versions on chain, prove, withdraw');

  withRemoteOptions(
    datanet
      .command('create')
      .description('create a DataNet on chain (you are its owner) and register its metadata with the node')
      .requiredOption('--name <name>', 'display name')
      .requiredOption('--schema <file|json>', 'JSON Schema every row must satisfy')
      .requiredOption('--license <id>', 'license of contributions, e.g. CC-BY-4.0')
      .option('--description <text>', 'what the DataNet is for', '')
      .option(
        '--pii <kind=action...>',
        `PII policy per kind (${piiKinds.join(', ')}; actions reject|redact|allow), e.g. email=reject`,
      )
      .option('--pii-default <action>', 'PII action for kinds not listed', 'redact')
      .option('--near-duplicate <threshold>', 'similarity (0.5-1) from which a row is a near duplicate', '0.85')
      .option('--max-row-bytes <n>', 'largest accepted row', '65536')
      .option('--bond <open>', 'OPEN each contributor must bond (0 = none)', '0')
      .option('--forfeit-bps <bps>', 'part of the bond forfeited per spam rejection, in basis points', '0')
      .option('--treasury <address>', 'receives forfeited bonds (default: you)'),
  ).action(lazyAction(actions, 'create'));

  withRemoteOptions(
    datanet.command('curator <id> <add|remove> <address>').description('add or remove a curator (owner only)'),
  ).action(lazyAction(actions, 'setCurator'));

  withRemoteOptions(
    datanet
      .command('contribute <id> [paths...]')
      .description('sign and submit rows from JSONL, CSV, text or Markdown files, directories, or - for stdin')
      .option(
        '--format <format>',
        `input format (${inputFormats.join('|')}); default from the file extension, jsonl for stdin`,
      )
      .option('--split <mode>', 'text and Markdown: one row per document or per paragraph', 'document')
      .option('--batch <n>', 'rows per request (≤ 1000)', '500'),
  ).action(lazyAction(actions, 'contribute'));

  withRemoteOptions(
    datanet
      .command('review <id>')
      .description('show the review queue, or approve/reject contributions as owner or curator')
      .option('--approve <ids...>', 'contribution ids to approve')
      .option('--reject <ids...>', 'contribution ids to reject')
      .option('--approve-all', 'approve every pending contribution')
      .option('--reason <text>', 'reason recorded in the audit log', 'reviewed')
      .option('--spam', 'mark rejections as spam (forfeits part of the bond when the DataNet has one)'),
  ).action(lazyAction(actions, 'review'));

  withRemoteOptions(
    datanet
      .command('publish <id>')
      .description('freeze the approved contributions into the next version and commit its Merkle root on chain'),
  ).action(lazyAction(actions, 'publish'));

  withRemoteOptions(datanet.command('show <id>').description('a DataNet: settings, curators, counts, versions')).action(
    lazyAction(actions, 'show'),
  );

  withRemoteOptions(
    datanet
      .command('export <id>')
      .description('a published version as JSON lines for training')
      .requiredOption('--version <n>', 'version number')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(lazyAction(actions, 'exportVersion'));

  withRemoteOptions(
    datanet
      .command('proof <contributionId>')
      .description('Merkle inclusion proof, verified offline and by the registry contract')
      .option('--version <n>', 'a specific published version'),
  ).action(lazyAction(actions, 'proof'));

  withRemoteOptions(
    datanet
      .command('withdraw <contributionId>')
      .description('withdraw your contribution: content deleted, absent from the next version on'),
  ).action(lazyAction(actions, 'withdraw'));

  withRemoteOptions(
    datanet
      .command('bond <id>')
      .description('deposit OPEN as your contributor bond')
      .requiredOption('--deposit <open>', 'amount in OPEN'),
  ).action(lazyAction(actions, 'bond'));
}
