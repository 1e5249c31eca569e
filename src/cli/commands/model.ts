/**
 * `tributary model …`: fine-tune on a DataNet version, follow and inspect jobs, publish models on chain with
 * their lineage, list and show registered models, and import adapters trained elsewhere (PEFT).
 *
 * Definitions only: the actions are in model-actions.ts, imported when a command runs.
 */
import { type Command, Option } from 'commander';
import { lazyAction, withRemoteOptions } from './define.js';

const actions = () => import('./model-actions.js');

/** The engine's bundledBaseModel.name, copied so that the help needs no domain folder (define.test.ts checks it). */
const bundledBaseName = 'tributary-base-4m';

export function registerModel(program: Command): void {
  const model = program.command('model').description('fine-tune, evaluate, publish and inspect models');

  withRemoteOptions(
    model
      .command('train')
      .description('fine-tune a LoRA adapter on a published DataNet version (a durable job on the node)')
      .requiredOption('--datanet <id>', 'DataNet id')
      .requiredOption('--version <n>', 'DataNet version')
      .requiredOption('--name <name>', 'name of the model (unique once published)')
      .option('--base <model>', `base model (default ${bundledBaseName})`)
      .addOption(
        new Option(
          '--preset <preset>',
          'what the fine-tune is for; its defaults go under the options below (facts: memorise Q/A rows, train on every row)',
        ).choices(['facts', 'style', 'continue']),
      )
      .option('--rank <n>', 'LoRA rank (default 8)')
      .option('--alpha <n>', 'LoRA alpha (default 16)')
      .option('--steps <n>', 'optimizer steps (default: --epochs passes)')
      .option('--epochs <n>', 'passes over the training split (default 8)')
      .option('--batch <n>', 'examples per step (default 8)')
      .option('--seq-len <n>', 'cutoff length in tokens (default 64)')
      .option('--lr <x>', 'peak learning rate (default 0.003)')
      .option('--seed <n>', 'seed (default 42)')
      .option('--no-follow', 'return once queued'),
  ).action(lazyAction(actions, 'train'));

  withRemoteOptions(model.command('status <jobId>').description('a fine-tune job: status, progress, result')).action(
    lazyAction(actions, 'status'),
  );

  withRemoteOptions(
    model
      .command('eval <jobId>')
      .description("a finished fine-tune's evaluation: held-out loss, perplexity, exact match, parity"),
  ).action(lazyAction(actions, 'evaluate'));

  withRemoteOptions(
    model
      .command('publish [jobId]')
      .description('register a fine-tuned (or imported) model on chain with its lineage and prices; you own it')
      .requiredOption('--price-in <open>', 'OPEN per 1,000 input tokens')
      .requiredOption('--price-out <open>', 'OPEN per 1,000 output tokens')
      .option('--adapter <sha256>', 'an imported adapter (see import-peft) instead of a job')
      .option('--name <name>', 'name, with --adapter')
      .option('--receipt <cid>', 'receipt or provenance document, with --adapter')
      .option('--base <model>', `base model the adapter is for, with --adapter (default ${bundledBaseName})`)
      .option(
        '--datanet <id>',
        'DataNet the adapter was trained on, with --adapter and --version (its contributors are paid)',
      )
      .option('--version <n>', 'version of that DataNet'),
  ).action(lazyAction(actions, 'publish'));

  withRemoteOptions(model.command('list').description('registered models with prices and lineage')).action(
    lazyAction(actions, 'list'),
  );

  withRemoteOptions(
    model.command('show <model>').description('a registered model (by id or name) with its training receipt'),
  ).action(lazyAction(actions, 'show'));

  const base = model
    .command('base')
    .description('base models: register a llama-family GGUF on the node, list what it fine-tunes and serves');
  withRemoteOptions(
    base
      .command('add <file>')
      .description(
        'register a llama-family GGUF (llama — also Mistral, SmolLM, TinyLlama —, qwen2, phi3) as a base model; its sha-256 is its identity in lineage (operator only)',
      )
      .option('--name <name>', "name to register it under (default: the file's name without .gguf, lowercased)"),
  ).action(lazyAction(actions, 'baseAdd'));
  withRemoteOptions(
    base.command('list').description('the base models on the node, and whether it fine-tunes and serves each'),
  ).action(lazyAction(actions, 'baseList'));

  withRemoteOptions(
    model
      .command('import-peft')
      .description(
        'convert a PEFT LoRA (adapter_config.json + adapter_model.safetensors) for a base on the node into a llama.cpp adapter there',
      )
      .requiredOption('--dir <dir>', 'directory with adapter_config.json and adapter_model.safetensors')
      .requiredOption('--name <name>', 'adapter name')
      .option('--base <model>', `base model it was trained on (default ${bundledBaseName})`),
  ).action(lazyAction(actions, 'importPeft'));
}
