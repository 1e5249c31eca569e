/**
 * Who receives the insider allocations on a chain that is not the embedded local one. OPEN's treasury (61.71%)
 * never votes, so the team (15%) and investor (18.29%) vesting wallets and the liquidity (5%) are every vote that
 * exists at deployment. Defaulting them to the deployer let one key pass proposals alone (issue 10, attack 7): a
 * real deployment must name them.
 */
import { type Address, getAddress } from 'viem';
import { BaseError, type Config } from '../core/index.js';

/** The configuration keys (and their environment variables) that name the beneficiaries. */
export const beneficiarySettings = [
  { key: 'teamBeneficiary', env: 'TRIBUTARY_TEAM_BENEFICIARY', part: 'team' },
  { key: 'investorBeneficiary', env: 'TRIBUTARY_INVESTOR_BENEFICIARY', part: 'investors' },
  { key: 'liquidityRecipient', env: 'TRIBUTARY_LIQUIDITY_RECIPIENT', part: 'liquidity' },
] as const;

export interface Beneficiaries {
  team: Address;
  investors: Address;
  liquidity: Address;
}

export type ConfiguredBeneficiaries = { [P in keyof Beneficiaries]?: Address | undefined };

/** The beneficiaries the node configuration names (any may be missing). */
export function configuredBeneficiaries(
  config: Pick<Config, 'teamBeneficiary' | 'investorBeneficiary' | 'liquidityRecipient'>,
): ConfiguredBeneficiaries {
  return { team: config.teamBeneficiary, investors: config.investorBeneficiary, liquidity: config.liquidityRecipient };
}

const list = (words: string[]): string =>
  words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;

/**
 * The beneficiaries for deploying to `rpcUrl`; CONFIG_INVALID naming the missing keys and their environment
 * variables, or when the team and the investors share an address (one holder of both vesting wallets, 33.29%,
 * could split them over two delegates and meet the quorum alone).
 */
export function requireBeneficiaries(rpcUrl: string, configured: ConfiguredBeneficiaries): Beneficiaries {
  const { team, investors, liquidity } = configured;
  if (!team || !investors || !liquidity) {
    const missing = beneficiarySettings.filter((s) => !configured[s.part]);
    throw new BaseError(
      'CONFIG_INVALID',
      `Deploying to ${rpcUrl} needs explicit token beneficiaries, or the deployer would hold every vote that exists at deployment: set ${list(missing.map((s) => s.env))}, or ${list(missing.map((s) => `"${s.key}"`))} in the config file`,
      {
        details: { fields: missing.map((s) => s.key), env: missing.map((s) => s.env) },
        docsPath: 'docs/configuration.md',
      },
    );
  }
  const b = { team: getAddress(team), investors: getAddress(investors), liquidity: getAddress(liquidity) };
  if (b.team === b.investors) {
    throw new BaseError(
      'CONFIG_INVALID',
      `teamBeneficiary and investorBeneficiary are the same address ${b.team}: one holder of both vesting wallets could pass proposals alone; name two different owners`,
      {
        details: { fields: ['teamBeneficiary', 'investorBeneficiary'], value: b.team },
        docsPath: 'docs/configuration.md',
      },
    );
  }
  return b;
}
