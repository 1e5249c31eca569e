/**
 * The deployment file: which chain, which addresses, from which block. Every component reads it to find the
 * contracts; it is checked against the chain before use so a reset chain is never mistaken for the old one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { getAddress, type Hex, isHex } from 'viem';
import { z } from 'zod';
import { BaseError, bigintReplacer, errnoCode, parseJson } from '../core/index.js';
import type { ChainClients } from './clients.js';

export const contractNames = [
  'OpenToken',
  'Staking',
  'Governor',
  'Timelock',
  'DataNetRegistry',
  'ModelRegistry',
  'ProtocolConfig',
  'RewardDistributor',
  'InferenceEscrow',
] as const;
export type ContractName = (typeof contractNames)[number];

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 0x-prefixed 20-byte address')
  .transform((a) => getAddress(a));
const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 0x-prefixed 32-byte hash')
  .refine((h): h is Hex => isHex(h));
const wei = z.string().regex(/^\d+$/, 'expected a decimal integer string (wei)');

export const deploymentSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int().positive(),
  deployer: address,
  /** First block of the deployment and its hash: identifies this chain's history. */
  block: z.number().int().nonnegative(),
  blockHash: hex32,
  deployedAt: z.string(),
  contracts: z.object({
    OpenToken: address,
    Staking: address,
    Governor: address,
    Timelock: address,
    DataNetRegistry: address,
    ModelRegistry: address,
    ProtocolConfig: address,
    RewardDistributor: address,
    InferenceEscrow: address,
  } satisfies Record<ContractName, typeof address>),
  /** recipient = the address minted to (a vesting wallet for vested lines); beneficiary = who it is for. */
  allocations: z.array(
    z.object({ label: z.string(), recipient: address, beneficiary: address, amount: wei, vested: z.boolean() }),
  ),
  parameters: z.record(z.string(), z.unknown()),
});

export type Deployment = z.output<typeof deploymentSchema>;

export function writeDeployment(path: string, deployment: Deployment): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deployment, bigintReplacer, 2)}\n`);
  renameSync(tmp, path); // atomic: a crash never leaves half a file
}

function invalid(message: string, details: Record<string, unknown>): BaseError {
  return new BaseError('DEPLOYMENT_INVALID', message, { details, docsPath: 'docs/architecture.md#deployment-file' });
}

/** Reads and validates a deployment file; DEPLOYMENT_INVALID names the file and the field that is wrong. */
export function readDeployment(path: string): Deployment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw invalid(`Cannot read deployment file ${path}: ${errnoCode(e) ?? String(e)}`, {
      file: path,
    });
  }
  const parsed = parseJson(text);
  if (!parsed.ok) {
    throw invalid(
      `Deployment file ${path} is not valid JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.reason}`,
      {
        file: path,
        line: parsed.line,
        column: parsed.column,
      },
    );
  }
  const result = deploymentSchema.safeParse(parsed.value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw invalid(`Deployment file ${path}: field ${field}: ${issue?.message ?? 'invalid'}`, { file: path, field });
  }
  return result.data;
}

/**
 * Confirms that `deployment` lives on the chain behind `clients`: same chain id, same block hash at the
 * deployment block, and code at every address. Throws CHAIN_MISMATCH or DEPLOYMENT_INVALID otherwise.
 */
export async function verifyDeployment(clients: ChainClients, deployment: Deployment): Promise<void> {
  if (clients.chain.id !== deployment.chainId) {
    throw new BaseError(
      'CHAIN_MISMATCH',
      `Deployment is for chain ${deployment.chainId} but ${clients.rpcUrl} is chain ${clients.chain.id}`,
      {
        details: { expected: deployment.chainId, actual: clients.chain.id },
      },
    );
  }
  const block = await clients.public.getBlock({ blockNumber: BigInt(deployment.block) }).catch(() => null);
  if (!block || block.hash !== deployment.blockHash) {
    throw new BaseError(
      'CHAIN_MISMATCH',
      `Chain ${deployment.chainId} at ${clients.rpcUrl} does not contain the deployment's block ${deployment.block} (${deployment.blockHash}); the chain was reset or is another chain`,
      { details: { block: deployment.block, expectedHash: deployment.blockHash, actualHash: block?.hash ?? null } },
    );
  }
  for (const name of contractNames) {
    const code = await clients.public.getCode({ address: deployment.contracts[name] });
    if (!code || code === '0x') {
      throw invalid(`No contract code for ${name} at ${deployment.contracts[name]} on chain ${deployment.chainId}`, {
        contract: name,
        address: deployment.contracts[name],
      });
    }
  }
}
