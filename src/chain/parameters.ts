/** What a deployment is made of: the token allocation and the governance and staking parameters. */
import type { Address } from 'viem';
import { BaseError } from '../core/index.js';

export const TOTAL_SUPPLY = 1_000_000_000n * 10n ** 18n;
export const OPEN = 10n ** 18n;
const DAY = 86_400;
const MONTH = 30 * DAY;

/** Staking roles, in the order of the contract's `Role` enum. */
export const stakingRoles = { validator: 0, servingNode: 1, agent: 2 } as const;
export type StakingRole = keyof typeof stakingRoles;

export interface AllocationSpec {
  label: string;
  /** Share of the supply in basis points of a percent (1/10,000); the list must sum to 10,000. */
  bps: number;
  /** 'treasury' = the timelock. */
  recipient: 'treasury' | Address;
  /** Locks the allocation in a VotingVestingWallet for `recipient`: nothing before the cliff, then linear. */
  vesting?: { cliffSeconds: number; durationSeconds: number };
}

export interface DeployParameters {
  allocations: AllocationSpec[];
  governor: {
    votingDelaySeconds: number;
    votingPeriodSeconds: number;
    proposalThresholdWei: bigint;
    quorumPercent: number;
  };
  timelockDelaySeconds: number;
  staking: { unbondingPeriodSeconds: number; minimumStakeWei: Record<StakingRole, bigint> };
  /** Payable inference: F_platform = flat + bps × token fee; β/γ/δ split of the rest; challenge terms. */
  settlement: {
    platformFeeBps: number;
    platformFeeFlatWei: bigint;
    ownerShareBps: number;
    stakerShareBps: number;
    contributorShareBps: number;
    challengeWindowSeconds: number;
    challengeBondWei: bigint;
    /** Governance's time to resolve a challenge; after it the challenged epoch is void (the default outcome). */
    resolutionPeriodSeconds: number;
    /** After a channel expires, the time only its node can redeem before the user may close it. */
    settlementGraceSeconds: number;
  };
}

/**
 * OpenLedger's published allocation and governance settings. Team and investor tokens vest in wallets for their
 * beneficiaries; those and the liquidity recipient default to the deployer, which is for local chains and tests
 * only: `chainUp` refuses any other chain without explicit ones (see beneficiaries.ts), since one holder of all three
 * holds every vote that exists at deployment.
 */
export function defaultDeployParameters(beneficiaries: {
  deployer: Address;
  team?: Address;
  investors?: Address;
  liquidity?: Address;
}): DeployParameters {
  const vesting = { cliffSeconds: 12 * MONTH, durationSeconds: 36 * MONTH };
  return {
    allocations: [
      { label: 'community', bps: 6171, recipient: 'treasury' },
      { label: 'investors', bps: 1829, recipient: beneficiaries.investors ?? beneficiaries.deployer, vesting },
      { label: 'team', bps: 1500, recipient: beneficiaries.team ?? beneficiaries.deployer, vesting },
      { label: 'liquidity', bps: 500, recipient: beneficiaries.liquidity ?? beneficiaries.deployer },
    ],
    governor: {
      votingDelaySeconds: DAY,
      votingPeriodSeconds: 14 * DAY,
      proposalThresholdWei: 100n * OPEN,
      quorumPercent: 25,
    },
    timelockDelaySeconds: DAY,
    staking: {
      // Longer than a challenge window plus a whole governance vote (1 + 1 + 14 + 1 days), so a slash decided by
      // vote still finds the stake; stake behind unfinalized epochs is locked on top of this.
      unbondingPeriodSeconds: 21 * DAY,
      minimumStakeWei: { validator: 10_000n * OPEN, servingNode: 1_000n * OPEN, agent: 100n * OPEN },
    },
    // OpenLedger publishes the formula, not β/γ/δ; these defaults favour the people whose data did the work.
    settlement: {
      platformFeeBps: 500,
      platformFeeFlatWei: 0n,
      ownerShareBps: 4_000,
      stakerShareBps: 1_000,
      contributorShareBps: 5_000,
      challengeWindowSeconds: DAY,
      challengeBondWei: 1_000n * OPEN,
      resolutionPeriodSeconds: 21 * DAY,
      settlementGraceSeconds: DAY,
    },
  };
}

/** Wei amount of each allocation line; INVALID_ARGUMENT if the shares do not sum to the whole supply. */
export function allocationAmounts(allocations: AllocationSpec[]): bigint[] {
  return withAmounts(allocations).map((a) => a.amount);
}

/** Each allocation line with its wei amount (`allocationAmounts`). */
export function withAmounts(allocations: AllocationSpec[]): (AllocationSpec & { amount: bigint })[] {
  const total = allocations.reduce((s, a) => s + a.bps, 0);
  const bad = allocations.find((a) => !Number.isInteger(a.bps) || a.bps <= 0);
  if (bad) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Allocation "${bad.label}" has share ${bad.bps} bps; expected a positive integer`,
      {
        details: { field: 'allocations.bps', label: bad.label },
      },
    );
  }
  if (total !== 10_000) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `Allocation shares sum to ${total} bps; they must sum to 10000 (the whole supply)`,
      {
        details: { field: 'allocations', sumBps: total },
      },
    );
  }
  return allocations.map((a) => ({ ...a, amount: (TOTAL_SUPPLY * BigInt(a.bps)) / 10_000n }));
}

/**
 * INVALID_ARGUMENT unless unbonding outlasts a challenge window plus a whole governance vote (delay, period,
 * timelock): otherwise a staker could leave between the act and the slash that a vote decides.
 */
export function checkUnbondingCoversGovernance(p: DeployParameters): void {
  const needed =
    p.settlement.challengeWindowSeconds +
    p.governor.votingDelaySeconds +
    p.governor.votingPeriodSeconds +
    p.timelockDelaySeconds;
  if (p.staking.unbondingPeriodSeconds < needed) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `staking.unbondingPeriodSeconds is ${p.staking.unbondingPeriodSeconds}; it must be at least ${needed} (challenge window + voting delay + voting period + timelock delay)`,
      { details: { field: 'staking.unbondingPeriodSeconds', minimum: needed } },
    );
  }
}
