import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/fixtures/errors.js';
import { configuredBeneficiaries, requireBeneficiaries } from './beneficiaries.js';
import { devAccount } from './dev-accounts.js';
import { defaultDeployParameters } from './parameters.js';

const rpc = 'https://rpc.example.org';
const [deployer, investors, team, liquidity] = [0, 1, 2, 3].map((i) => devAccount(i).address) as [
  `0x${string}`,
  `0x${string}`,
  `0x${string}`,
  `0x${string}`,
];

describe('requireBeneficiaries (a chain other than the embedded local one)', () => {
  it('attack: refuses to default the insider allocations to the deployer, naming every missing key', () => {
    const e = errorOf(() => requireBeneficiaries(rpc, {}));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(
      'Deploying to https://rpc.example.org needs explicit token beneficiaries, or the deployer would hold every vote that exists at deployment: set TRIBUTARY_TEAM_BENEFICIARY, TRIBUTARY_INVESTOR_BENEFICIARY and TRIBUTARY_LIQUIDITY_RECIPIENT, or "teamBeneficiary", "investorBeneficiary" and "liquidityRecipient" in the config file',
    );
    expect(e.details).toEqual({
      fields: ['teamBeneficiary', 'investorBeneficiary', 'liquidityRecipient'],
      env: ['TRIBUTARY_TEAM_BENEFICIARY', 'TRIBUTARY_INVESTOR_BENEFICIARY', 'TRIBUTARY_LIQUIDITY_RECIPIENT'],
    });
    expect(e.docsPath).toBe('docs/configuration.md');
    expect(errorOf(() => requireBeneficiaries(rpc, { team, investors })).message).toBe(
      'Deploying to https://rpc.example.org needs explicit token beneficiaries, or the deployer would hold every vote that exists at deployment: set TRIBUTARY_LIQUIDITY_RECIPIENT, or "liquidityRecipient" in the config file',
    );
  });

  it('refuses one owner for both vesting wallets, whatever the letter case', () => {
    const e = errorOf(() =>
      requireBeneficiaries(rpc, { team, investors: team.toLowerCase() as `0x${string}`, liquidity }),
    );
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toBe(
      `teamBeneficiary and investorBeneficiary are the same address ${team}: one holder of both vesting wallets could pass proposals alone; name two different owners`,
    );
  });

  it('returns checksummed addresses that the default parameters give the allocations to', () => {
    const b = requireBeneficiaries(
      rpc,
      configuredBeneficiaries({
        teamBeneficiary: team.toLowerCase() as `0x${string}`,
        investorBeneficiary: investors,
        liquidityRecipient: liquidity,
      }),
    );
    expect(b).toEqual({ team, investors, liquidity });
    const recipients = defaultDeployParameters({ deployer, ...b }).allocations.map((a) => [a.label, a.recipient]);
    expect(Object.fromEntries(recipients)).toEqual({ community: 'treasury', investors, team, liquidity });
  });
});
