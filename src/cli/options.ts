/** Options shared by commands, and turning them into a Config. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BaseError, type Config, createLogger, errnoCode, type Logger, loadConfig, messageOf } from '../core/index.js';

export interface GlobalOptions {
  json?: boolean;
  dataDir?: string;
  config?: string;
  logLevel?: string;
  port?: string;
  host?: string;
  rpc?: string;
  chainPort?: string;
  databaseUrl?: string;
  gpu?: string;
}

/** Config from this command's flags (and the global ones), the environment and the config file. */
export function configFrom(cmd: Command): Config {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return loadConfig({
    flags: {
      dataDir: o.dataDir,
      config: o.config,
      logLevel: o.logLevel,
      port: o.port,
      host: o.host,
      rpcUrl: o.rpc,
      chainPort: o.chainPort,
      databaseUrl: o.databaseUrl,
      gpu: o.gpu,
    },
  });
}

export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.logLevel });
}

export const isJson = (cmd: Command): boolean => cmd.optsWithGlobals<GlobalOptions>().json === true;

/** The text of the file a flag names (`--export FILE`); a file that cannot be read is NOT_FOUND, naming the flag. */
export function readFlagFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new BaseError('NOT_FOUND', `Cannot read ${flag} file ${file}: ${errnoCode(e) ?? messageOf(e)}`, {
      details: { field: flag, file },
    });
  }
}
