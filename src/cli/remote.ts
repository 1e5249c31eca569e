/**
 * Commands that act as a user of a running node: they reach its API (`--api`, TRIBUTARY_API, or the default
 * http://127.0.0.1:7420), learn the chain from it, and sign with the user's own key — never the node's. Their
 * options (--api, --rpc, --key-env, --dev-account) are added by withRemoteOptions in commands/define.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Address, isHex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { type ChainClients, type ContractName, connectChain, deploymentAddresses, devAccount } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import { createNodeClient, type NodeClient, nodeApi } from '../protocol/index.js';
import { configFrom } from './options.js';

export interface RemoteOptions {
  api?: string;
  rpc?: string;
  keyEnv?: string;
  devAccount?: string;
}

export interface Remote {
  api: NodeClient;
  chainId: number;
  /** Every protocol contract's address, as the node reports them. */
  contracts: Record<ContractName, Address>;
  clients: ChainClients;
}

const apiUrl = (o: RemoteOptions) => o.api ?? process.env.TRIBUTARY_API ?? 'http://127.0.0.1:7420';

/** The node's public API, for reads that need no chain and no key. */
export const publicApi = (o: Pick<RemoteOptions, 'api'>): NodeClient => createNodeClient(apiUrl(o));

/**
 * The node's API as its operator: the token from TRIBUTARY_OPERATOR_TOKEN, or from the node's data directory
 * (--data-dir) when the CLI runs on the node's machine.
 */
export function operatorApi(o: RemoteOptions, cmd: Command): NodeClient {
  let token = process.env.TRIBUTARY_OPERATOR_TOKEN;
  if (!token) {
    const file = join(configFrom(cmd).dataDir, 'operator-token');
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch {
      throw new BaseError(
        'CONFIG_INVALID',
        `No operator token: set TRIBUTARY_OPERATOR_TOKEN, or pass the node's --data-dir (there is no ${file})`,
        {
          details: { field: 'TRIBUTARY_OPERATOR_TOKEN' },
        },
      );
    }
  }
  return createNodeClient(apiUrl(o), { headers: { authorization: `Bearer ${token}` } });
}

export async function connectRemote(o: RemoteOptions): Promise<Remote> {
  const api = createNodeClient(apiUrl(o));
  const d = await api.call(nodeApi.getDeployment);
  const { contracts } = deploymentAddresses(d, api.baseUrl);
  const clients = await connectChain(o.rpc ?? d.rpcUrl);
  if (clients.chain.id !== d.chainId) {
    throw new BaseError(
      'CHAIN_MISMATCH',
      `The node is on chain ${d.chainId} but ${clients.rpcUrl} is chain ${clients.chain.id}`,
      {
        details: { node: d.chainId, rpc: clients.chain.id },
      },
    );
  }
  return { api, chainId: d.chainId, contracts, clients };
}

/** Stores bytes in a node's blob store: their CID, sha-256 and size. */
export function storeBlob(api: NodeClient, bytes: Uint8Array) {
  return api.call(nodeApi.putBlob, { bytes });
}

/** The signing key: --dev-account n, or the private key in the --key-env variable. */
export function signerFrom(o: RemoteOptions): LocalAccount {
  if (o.devAccount !== undefined) {
    const n = Number(o.devAccount);
    if (!Number.isInteger(n) || n < 0 || n > 999) {
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Invalid --dev-account "${o.devAccount}": expected an account index 0-999`,
        { details: { field: '--dev-account' } },
      );
    }
    return devAccount(n);
  }
  const name = o.keyEnv ?? 'TRIBUTARY_PRIVATE_KEY';
  const key = process.env[name];
  if (!key) {
    throw new BaseError(
      'CONFIG_INVALID',
      `No signing key: set ${name} to your private key, or pass --dev-account N on a local chain`,
      {
        details: { field: name },
      },
    );
  }
  if (!isHex(key, { strict: true }) || key.length !== 66) {
    throw new BaseError('CONFIG_INVALID', `${name} is not a 32-byte hex private key starting with 0x`, {
      details: { field: name },
    });
  }
  return privateKeyToAccount(key);
}
