/**
 * What commands print. stdout carries results: one JSON line with --json, readable text otherwise. Progress,
 * logs and errors go to stderr so that `--json` output can be piped as is.
 */
import { BaseError, bigintReplacer, toBaseError } from '../core/index.js';
import { exitCodeByCode } from './exit-codes.js';

export interface Output {
  json: boolean;
  /** The command's result: the JSON line, or the human text. */
  result(data: unknown, human: () => string): void;
  /** A progress note for people (stderr; silent with --json). */
  note(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(data, human) {
      process.stdout.write(json ? `${JSON.stringify(data, bigintReplacer)}\n` : `${human()}\n`);
    },
    note(message) {
      if (!json) process.stderr.write(`${message}\n`);
    },
  };
}

/** Reports `e` (stderr, and a JSON line on stdout with --json) and returns the exit code for it. */
export function reportError(e: unknown, json: boolean): number {
  const err = e instanceof BaseError ? e : toBaseError(e);
  const lines = [`error[${err.code}]: ${err.message}`];
  for (const [k, v] of Object.entries(err.details))
    lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v, bigintReplacer)}`);
  if (err.docsPath) lines.push(`  see ${err.docsPath}`);
  if (err.code === 'INTERNAL' && err.cause instanceof Error && err.cause.stack) lines.push(err.cause.stack);
  process.stderr.write(`${lines.join('\n')}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: err.toJSON() }, bigintReplacer)}\n`);
  return exitCodeByCode[err.code];
}

/** Resolves on the first SIGINT or SIGTERM; a second one exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', handler);
      process.removeListener('SIGTERM', handler);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
