import { describe, expect, it } from 'vitest';
import { BaseError } from '../core/index.js';
import { checkUnbondingCoversGovernance, defaultDeployParameters } from './parameters.js';

const deployer = '0x0000000000000000000000000000000000000001' as const;

describe('deploy parameters', () => {
  it('default unbonding outlasts a challenge window plus a whole governance vote', () => {
    expect(() => checkUnbondingCoversGovernance(defaultDeployParameters({ deployer }))).not.toThrow();
  });

  it('attack 8: refuses an unbonding period a staker could leave through before a voted slash lands', () => {
    const p = defaultDeployParameters({ deployer });
    p.staking.unbondingPeriodSeconds = 7 * 86_400;
    let err: unknown;
    try {
      checkUnbondingCoversGovernance(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BaseError);
    expect((err as BaseError).code).toBe('INVALID_ARGUMENT');
    expect((err as BaseError).message).toBe(
      'staking.unbondingPeriodSeconds is 604800; it must be at least 1468800 (challenge window + voting delay + voting period + timelock delay)',
    );
  });
});
