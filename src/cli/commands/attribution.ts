/**
 * `tributary index build|count` and `tributary attribute`: span indexes of corpora, and attribution of a text or
 * of a served request.
 *
 * Definitions only: the actions are in attribution-actions.ts, imported when a command runs.
 */
import type { Command } from 'commander';
import { lazyAction } from './define.js';

const actions = () => import('./attribution-actions.js');
const MODEL_FLAG = 'tokenize with this GGUF model\'s tokenizer ("bundled" = the shipped base); default: words';

export function registerAttribution(program: Command): void {
  const index = program.command('index').description('span indexes of corpora (suffix arrays), for audits');
  index
    .command('build')
    .description('build the span index of a JSONL corpus ({"id", "contributor", "text"} per line)')
    .requiredOption('--corpus <file>', 'the corpus, JSON lines')
    .requiredOption('--out <dir>', 'index directory (replaced if it exists)')
    .option('--model <gguf>', MODEL_FLAG)
    .action(lazyAction(actions, 'indexBuild'));
  index
    .command('count')
    .description('occurrences of a text (as tokens) in an index')
    .requiredOption('--index <dir>', 'index directory')
    .requiredOption('--text <text>', 'the n-gram to count')
    .option('--model <gguf>', MODEL_FLAG)
    .action(lazyAction(actions, 'indexCount'));

  program
    .command('attribute')
    .description('attribute a text to the contributions of a corpus, or show the attribution of a served request')
    .option('--corpus <file>', 'JSONL corpus to attribute against')
    .option('--index <dir>', 'a span index already built for --corpus (faster on large corpora)')
    .option('--text <text>', 'the output to attribute')
    .option('--prompt <text>', 'the prompt that produced it (RAG retrieves with it)')
    .option('--method <m>', 'span, gradient, rag, a comma list, or all', 'span')
    .option('--model <gguf>', MODEL_FLAG)
    .option(
      '--training-receipt <cid>',
      "enables the gradient method: the model's training receipt, read with its adapter and gradient index from --api",
    )
    .option('--request <id>', "a served request's id: its attribution as the node stored it")
    .option(
      '--verify',
      'with --request: check the receipt, the export against the root on chain, and recompute the attribution from public data (needs --text and one of --body, --messages, --message, --prompt)',
    )
    .option(
      '--body <file>',
      'with --verify: the request body exactly as sent (JSON): also checks the signed requestHash',
    )
    .option('--messages <file>', 'with --verify: the chat messages asked (JSON array, or a body with messages)')
    .option('--message <text>', 'with --verify: the one user message that was asked')
    .option(
      '--prompt-tokens <file>',
      'with --verify: the prompt read as token ids of the served base model (JSON array), decoded exactly',
    )
    .option('--context <file>', 'with --verify: the retrieval context the node put first (default: recomputed)')
    .option(
      '--kept-export <file>',
      "with --verify: the version's export kept from before a withdrawal (the withdrawn rows' content, checked by leaf)",
    )
    .option(
      '--api <url>',
      'node API for --request and --training-receipt (default $TRIBUTARY_API or http://127.0.0.1:7420)',
    )
    .option(
      '--rpc <url>',
      "with --verify: the chain RPC to read roots and the receipt domain from (default: the node's)",
    )
    .action(lazyAction(actions, 'attribute'));
}
