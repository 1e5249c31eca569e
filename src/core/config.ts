/**
 * Node configuration from, in order of precedence: command-line flags, environment variables, a JSON config
 * file (`--config FILE`, or `tributary.json` in the data directory), then defaults. A bad value is reported with
 * the field and the place it came from, so the user knows which of the four to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { errnoCode } from './checked.js';
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
  /**
   * Serving registered base models: `auto` lets llama.cpp use a GPU (CUDA, Vulkan) when the machine has one; `off`
   * keeps them on the CPU. The bundled base always runs on the CPU (it is tiny, and tests compare it bit for bit).
   */
  gpu: 'auto' | 'off';
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
  | { kind: 'file'; path: string; key: string };

/** How a field is read: its schema gives the value's type. */
interface FieldSpec<T> {
  schema: z.ZodType<T>;
  flag?: string;
  env: string;
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

/** A string of `digits` hex digits after 0x (typed as such), or `message`. */
const hex = (digits: number, message: string) => {
  const pattern = new RegExp(`^0x[0-9a-fA-F]{${digits}}$`);
  return z.string().refine((v): v is `0x${string}` => pattern.test(v), message);
};
const privateKey = hex(64, 'expected a 32-byte hex private key starting with 0x');
const address = hex(40, 'expected a 20-byte hex address starting with 0x');

const fields: { [F in Field]: FieldSpec<NonNullable<Config[F]>> } = {
  dataDir: { schema: z.string().min(1, 'expected a directory path'), flag: '--data-dir', env: 'TRIBUTARY_DATA_DIR' },
  host: { schema: z.string().min(1, 'expected a host name or address'), flag: '--host', env: 'TRIBUTARY_HOST' },
  port: { schema: port, flag: '--port', env: 'TRIBUTARY_PORT' },
  rpcUrl: { schema: url(['http:', 'https:', 'ws:', 'wss:']), flag: '--rpc', env: 'TRIBUTARY_RPC_URL' },
  chainPort: { schema: port, flag: '--chain-port', env: 'TRIBUTARY_CHAIN_PORT' },
  databaseUrl: { schema: url(['postgres:', 'postgresql:']), flag: '--database-url', env: 'DATABASE_URL' },
  logLevel: {
    schema: z.enum(logLevels, { error: `expected one of ${logLevels.join(', ')}` }),
    flag: '--log-level',
    env: 'TRIBUTARY_LOG_LEVEL',
  },
  gpu: { schema: z.enum(['auto', 'off'], { error: 'expected auto or off' }), flag: '--gpu', env: 'TRIBUTARY_GPU' },
  deployerKey: { schema: privateKey, env: 'TRIBUTARY_DEPLOYER_KEY' },
  nodeKey: { schema: privateKey, env: 'TRIBUTARY_NODE_KEY' },
  teamBeneficiary: { schema: address, env: 'TRIBUTARY_TEAM_BENEFICIARY' },
  investorBeneficiary: { schema: address, env: 'TRIBUTARY_INVESTOR_BENEFICIARY' },
  liquidityRecipient: { schema: address, env: 'TRIBUTARY_LIQUIDITY_RECIPIENT' },
};

/** The value of each field that has one when nothing sets it. */
const defaults: Pick<Config, 'dataDir' | 'host' | 'port' | 'chainPort' | 'logLevel' | 'gpu'> = {
  dataDir: '.tributary',
  host: '127.0.0.1',
  port: 7420,
  chainPort: 0,
  logLevel: 'warn',
  gpu: 'off',
};

const isField = (key: string): key is Field => Object.hasOwn(fields, key);
export const configFields: readonly Field[] = Object.keys(fields).filter(isField);

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
    throw configError(`Cannot read config file ${path}: ${errnoCode(e) ?? String(e)}`, {
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
  const entries: [string, unknown][] = Object.entries(value);
  for (const [key] of entries) {
    if (!isField(key)) {
      throw configError(`Config file ${path} has unknown key "${key}"; known keys: ${configFields.join(', ')}`, {
        file: path,
        key,
      });
    }
  }
  return Object.fromEntries(entries);
}

/** Resolves the configuration; throws CONFIG_INVALID naming the field and its source on the first bad value. */
export function loadConfig(input: LoadConfigInput = {}): Config {
  const flags = input.flags ?? {};
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();

  // The data directory decides where the default config file is, so it is resolved from flags/env first.
  const dataDirHint =
    (typeof flags.dataDir === 'string' ? flags.dataDir : undefined) ?? env[fields.dataDir.env] ?? defaults.dataDir;
  const explicitFile = flags.config ?? env.TRIBUTARY_CONFIG;
  const filePath = explicitFile ? resolve(cwd, explicitFile) : join(resolve(cwd, dataDirHint), 'tributary.json');
  const file = explicitFile || existsSync(filePath) ? readConfigFile(filePath) : {};

  /** The field's value from a flag, the environment or the file (in that order), or undefined if none sets it. */
  function given<F extends Field>(field: F): NonNullable<Config[F]> | undefined {
    const spec = fields[field];
    let raw: unknown;
    let source: Source;
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
      return undefined;
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
    return result.data;
  }

  // In the order of configFields: the first bad value is the one reported.
  return {
    dataDir: resolve(cwd, given('dataDir') ?? defaults.dataDir),
    host: given('host') ?? defaults.host,
    port: given('port') ?? defaults.port,
    rpcUrl: given('rpcUrl'),
    chainPort: given('chainPort') ?? defaults.chainPort,
    databaseUrl: given('databaseUrl'),
    logLevel: given('logLevel') ?? defaults.logLevel,
    gpu: given('gpu') ?? defaults.gpu,
    deployerKey: given('deployerKey'),
    nodeKey: given('nodeKey'),
    teamBeneficiary: given('teamBeneficiary'),
    investorBeneficiary: given('investorBeneficiary'),
    liquidityRecipient: given('liquidityRecipient'),
  };
}
