/**
 * What a client of a node needs of the deployment: the chain id and the address of every protocol contract, as the
 * node reports them (`GET /v1/deployment`). A report that leaves a contract out is DEPLOYMENT_INVALID, naming it.
 */
import type { Address } from 'viem';
import { BaseError } from '../core/index.js';
import { type Deployment, deploymentSchema } from './deployment.js';

export type DeploymentAddresses = Pick<Deployment, 'chainId' | 'contracts'>;

/** The chain id and every contract's address (checksummed) of a reported deployment; `source` names it in errors. */
export function deploymentAddresses(
  reported: { chainId: number; contracts: Readonly<Record<string, Address>> },
  source = 'the node',
): DeploymentAddresses {
  const parsed = deploymentSchema.shape.contracts.safeParse(reported.contracts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['contracts', ...(issue?.path ?? []).map(String)].join('.');
    throw new BaseError(
      'DEPLOYMENT_INVALID',
      `The deployment reported by ${source}: field ${field}: ${issue?.message ?? 'invalid'}`,
      { details: { field } },
    );
  }
  return { chainId: reported.chainId, contracts: parsed.data };
}
