/**
 * Bringing up the chain side of a node: a local anvil (state kept in the data directory) or an existing chain
 * given by URL; then the protocol deployment, reused from the deployment file when it still matches the chain,
 * deployed otherwise.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import { type Anvil, startAnvil } from './anvil.js';
import { type ConfiguredBeneficiaries, requireBeneficiaries } from './beneficiaries.js';
import { type ChainClients, connectChain, sendTx } from './clients.js';
import { deployProtocol } from './deploy.js';
import { type Deployment, readDeployment, verifyDeployment, writeDeployment } from './deployment.js';
import { devAccount, devRoles } from './dev-accounts.js';
import { OpenTokenArtifact, StakingArtifact } from './generated/index.js';
import { delegateVotesLocally } from './governance.js';
import { defaultDeployParameters, OPEN, type StakingRole, stakingRoles } from './parameters.js';

export interface ChainUpOptions {
  dataDir: string;
  /** Use this chain instead of starting anvil. */
  rpcUrl?: string | undefined;
  /** Port for the local anvil (0 = free). */
  chainPort?: number;
  /** Deployer for a chain given by rpcUrl (the local chain uses anvil's first dev account). */
  deployerKey?: `0x${string}` | undefined;
  /**
   * Owners of the team and investor vesting wallets and the liquidity recipient, required to deploy to a chain
   * given by rpcUrl; the local chain uses dev accounts 1 and 2 and the deployer.
   */
  beneficiaries?: ConfiguredBeneficiaries;
  log?: Logger;
}

export interface ChainUp {
  clients: ChainClients;
  deployment: Deployment;
  /** Whether this call deployed the contracts (false = reused the deployment file). */
  deployed: boolean;
  /** Set when a local anvil was started. */
  anvil: Anvil | undefined;
  stop(): Promise<void>;
}

export function deploymentPath(dataDir: string): string {
  return join(dataDir, 'deployment.json');
}

export async function chainUp(options: ChainUpOptions): Promise<ChainUp> {
  const log = options.log ?? silentLogger();
  mkdirSync(options.dataDir, { recursive: true });
  let anvil: Anvil | undefined;
  let rpcUrl = options.rpcUrl;
  if (!rpcUrl) {
    mkdirSync(join(options.dataDir, 'chain'), { recursive: true });
    anvil = await startAnvil({
      port: options.chainPort ?? 0,
      stateFile: join(options.dataDir, 'chain', 'state.json'),
      log,
    });
    rpcUrl = anvil.rpcUrl;
  }
  try {
    const clients = await connectChain(rpcUrl);
    const file = deploymentPath(options.dataDir);
    let deployment: Deployment;
    let deployed = false;
    if (existsSync(file)) {
      deployment = readDeployment(file);
      await verifyDeployment(clients, deployment).catch((e: unknown) => {
        if (!(e instanceof BaseError)) throw e;
        const hint = `The data directory ${options.dataDir} belongs to that deployment: point --rpc at its chain, or use a new --data-dir`;
        throw new BaseError(e.code, `${e.message}. ${hint}`, { details: e.details, cause: e });
      });
      log.info({ file }, 'reusing deployment');
    } else {
      const deployer = deployerFor(options, anvil !== undefined);
      const local = anvil !== undefined;
      const parameters = defaultDeployParameters(
        local
          ? {
              deployer: deployer.address,
              investors: devAccount(devRoles.investorBeneficiary).address,
              team: devAccount(devRoles.teamBeneficiary).address,
            }
          : {
              deployer: deployer.address,
              ...requireBeneficiaries(rpcUrl, options.beneficiaries ?? {}),
            },
      );
      deployment = await deployProtocol({ clients, deployer, parameters, log });
      if (local) {
        const holders = [devRoles.deployer, devRoles.investorBeneficiary, devRoles.teamBeneficiary].map(devAccount);
        await delegateVotesLocally(clients, deployment, holders);
        await stakeLocalNode(clients, deployment);
      }
      writeDeployment(file, deployment);
      deployed = true;
    }
    return { clients, deployment, deployed, anvil, stop: async () => anvil?.stop() };
  } catch (e) {
    await anvil?.stop();
    throw e;
  }
}

/** OPEN the local node stakes as a validator, so `tributary up` can post epochs out of the box. */
export const LOCAL_NODE_STAKE = 20_000n * OPEN;

function stakeLocalNode(clients: ChainClients, deployment: Deployment): Promise<void> {
  return stakeFromDeployer(clients, deployment, devAccount(devRoles.localNode), 'validator', LOCAL_NODE_STAKE);
}

/**
 * Local chains (dev deployer): sends `amount + keep` OPEN from the deployer's liquidity to `who`, which stakes
 * `amount` for `role` and keeps the rest.
 */
export async function stakeFromDeployer(
  clients: ChainClients,
  deployment: Deployment,
  who: Account,
  role: StakingRole,
  amount: bigint,
  keep = 0n,
): Promise<void> {
  const token = { address: deployment.contracts.OpenToken, abi: OpenTokenArtifact.abi, contract: 'OpenToken' } as const;
  const staking = { address: deployment.contracts.Staking, abi: StakingArtifact.abi, contract: 'Staking' } as const;
  await sendTx(clients, devAccount(devRoles.deployer), {
    ...token,
    functionName: 'transfer',
    args: [who.address, amount + keep],
  });
  await sendTx(clients, who, { ...token, functionName: 'approve', args: [staking.address, amount] });
  await sendTx(clients, who, { ...staking, functionName: 'stake', args: [stakingRoles[role], amount] });
}

function deployerFor(options: ChainUpOptions, local: boolean): Account {
  if (local) return devAccount(devRoles.deployer);
  if (!options.deployerKey) {
    throw new BaseError(
      'CONFIG_INVALID',
      `Deploying to ${options.rpcUrl} needs a deployer key: set TRIBUTARY_DEPLOYER_KEY or "deployerKey" in the config file`,
      {
        details: { field: 'deployerKey' },
        docsPath: 'docs/scale-out.md',
      },
    );
  }
  return privateKeyToAccount(options.deployerKey);
}
