/**
 * Node configuration from, in order of precedence: command-line flags, environment variables, a JSON config
 * file (`--config FILE`, or `tributary.json` in the data directory), then defaults. A bad value is reported with
 * the field and the place it came from, so the user knows which of the four to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { BaseError } from './errors.js';
import { parseJson } from './json.js';
import { type LogLevel, logLevels } from './log.js';

export interface Config {
  /** Where the database, chain state, blobs and deployment file live. */
  dataDir: string;
  /** Interface the node API listens on. */
  host: string;
  /** Port of the node API (0 = a free port). */
  port: number;
  /** An existing EVM JSON-RPC endpoint; when absent a local anvil chain is started. */
  rpcUrl: string | undefined;
  /** Port of the local anvil chain (0 = a free port). */
  chainPort: number;
  /** A Postgres server; when absent an embedded PGlite database lives in the data directory. */
  databaseUrl: string | undefined;
  logLevel: LogLevel;
  /** Private key that deploys contracts to a chain given by `rpcUrl` (never from a flag: it would leak to `ps`). */
  deployerKey: `0x${string}` | undefined;
  /**
   * The serving node's key: payment channels pay it, it signs receipts, redeems vouchers and posts epochs (it
   * must hold a validator stake for that). The local chain uses a staked dev account when absent.
   */
  nodeKey: `0x${string}` | undefined;
  /**
   * Deploying to a chain given by `rpcUrl`: owner of the team's vesting wallet (15% of OPEN). Required there, with
   * `investorBeneficiary` and `liquidityRecipient`: without them the deployer would hold every vote at deployment.
   */
  teamBeneficiary: `0x${string}` | undefined;
  /** Deploying to a chain given by `rpcUrl`: owner of the investors' vesting wallet (18.29%); not the team's. */
  investorBeneficiary: `0x${string}` | undefined;
  /** Deploying to a chain given by `rpcUrl`: receives the liquidity allocation (5%) outright. */
  liquidityRecipient: `0x${string}` | undefined;
}

type Field = keyof Config;
type Source =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string; key: string }
  | { kind: 'default' };

interface FieldSpec {
  schema: z.ZodType;
  flag?: string;
  env: string;
  default?: unknown;
}

const port = z.coerce
  .number({ error: 'expected an integer from 0 to 65535' })
  .int('expected an integer from 0 to 65535')
  .min(0, 'expected an integer from 0 to 65535')
  .max(65535, 'expected an integer from 0 to 65535');
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

const privateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex private key starting with 0x');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address starting with 0x');

const fields: Record<Field, FieldSpec> = {
  dataDir: {
    schema: z.string().min(1, 'expected a directory path'),
    flag: '--data-dir',
    env: 'TRIBUTARY_DATA_DIR',
    default: '.tributary',
  },
  host: {
    schema: z.string().min(1, 'expected a host name or address'),
    flag: '--host',
    env: 'TRIBUTARY_HOST',
    default: '127.0.0.1',
  },
  port: { schema: port, flag: '--port', env: 'TRIBUTARY_PORT', default: 7420 },
  rpcUrl: { schema: url(['http:', 'https:', 'ws:', 'wss:']), flag: '--rpc', env: 'TRIBUTARY_RPC_URL' },
  chainPort: { schema: port, flag: '--chain-port', env: 'TRIBUTARY_CHAIN_PORT', default: 0 },
  databaseUrl: { schema: url(['postgres:', 'postgresql:']), flag: '--database-url', env: 'DATABASE_URL' },
  logLevel: {
    schema: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }),
    flag: '--log-level',
    env: 'TRIBUTARY_LOG_LEVEL',
    default: 'warn',
  },
  deployerKey: { schema: privateKey, env: 'TRIBUTARY_DEPLOYER_KEY' },
  nodeKey: { schema: privateKey, env: 'TRIBUTARY_NODE_KEY' },
  teamBeneficiary: { schema: address, env: 'TRIBUTARY_TEAM_BENEFICIARY' },
  investorBeneficiary: { schema: address, env: 'TRIBUTARY_INVESTOR_BENEFICIARY' },
  liquidityRecipient: { schema: address, env: 'TRIBUTARY_LIQUIDITY_RECIPIENT' },
};

export const configFields = Object.keys(fields) as Field[];

export interface LoadConfigInput {
  /** Parsed command-line flags, keyed by field name (undefined = not given). */
  flags?: Partial<Record<Field, unknown>> & { config?: string | undefined };
  env?: Record<string, string | undefined>;
  /** Base for relative paths. */
  cwd?: string;
}

function describe(source: Source): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.flag}`;
    case 'env':
      return `environment variable ${source.name}`;
    case 'file':
      return `config file ${source.path} (key "${source.key}")`;
    case 'default':
      return 'default';
  }
}

function configError(message: string, details: Record<string, unknown>): BaseError {
  return new BaseError('CONFIG_INVALID', message, { details, docsPath: 'docs/configuration.md' });
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(`Cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file: path,
    });
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    throw configError(
      `Config file ${path} is not valid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
      {
        file: path,
        line: parsed.line,
        column: parsed.column,
      },
    );
  }
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError(`Config file ${path} must hold a JSON object`, { file: path });
  }
  for (const key of Object.keys(value)) {
    if (!(key in fields)) {
      throw configError(`Config file ${path} has unknown key "${key}"; known keys: ${configFields.join(', ')}`, {
        file: path,
        key,
      });
    }
  }
  return value as Record<string, unknown>;
}

/** Resolves the configuration; throws CONFIG_INVALID naming the field and its source on the first bad value. */
export function loadConfig(input: LoadConfigInput = {}): Config {
  const flags = input.flags ?? {};
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();

  // The data directory decides where the default config file is, so it is resolved from flags/env first.
  const dataDirHint =
    (flags.dataDir as string | undefined) ?? env[fields.dataDir.env] ?? (fields.dataDir.default as string);
  const explicitFile = flags.config ?? env.TRIBUTARY_CONFIG;
  const filePath = explicitFile ? resolve(cwd, explicitFile) : join(resolve(cwd, dataDirHint), 'tributary.json');
  const file = explicitFile || existsSync(filePath) ? readConfigFile(filePath) : {};

  const out: Record<string, unknown> = {};
  for (const field of configFields) {
    const spec = fields[field];
    let raw: unknown;
    let source: Source = { kind: 'default' };
    const flagValue = flags[field];
    const envValue = env[spec.env];
    if (flagValue !== undefined && spec.flag) {
      raw = flagValue;
      source = { kind: 'flag', flag: spec.flag };
    } else if (envValue !== undefined && envValue !== '') {
      raw = envValue;
      source = { kind: 'env', name: spec.env };
    } else if (file[field] !== undefined) {
      raw = file[field];
      source = { kind: 'file', path: filePath, key: field };
    } else {
      raw = spec.default;
    }
    if (raw === undefined) {
      out[field] = undefined;
      continue;
    }
    const result = spec.schema.safeParse(raw);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? 'invalid value';
      throw configError(`Invalid ${field} from ${describe(source)}: ${reason}, got ${JSON.stringify(raw)}`, {
        field,
        source: describe(source),
        value: raw,
      });
    }
    out[field] = result.data;
  }
  out.dataDir = resolve(cwd, out.dataDir as string);
  return out as unknown as Config;
}
