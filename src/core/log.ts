/** Structured logs (pino, JSON lines) on stderr, so stdout stays for command output and `--json`. */
import { type Logger, pino } from 'pino';

export type { Logger };
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  return pino({ level: options.level ?? 'info', name: options.name ?? 'tributary', base: null }, pino.destination(2));
}

/** A logger that writes nothing, for tests and library callers that bring none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
