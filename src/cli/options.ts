/** Options shared by commands, and turning them into a Config. */
import type { Command } from 'commander';
import { type Config, createLogger, type Logger, loadConfig } from '../core/index.js';

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
    },
  });
}

export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.logLevel });
}

export const isJson = (cmd: Command): boolean => cmd.optsWithGlobals<GlobalOptions>().json === true;
