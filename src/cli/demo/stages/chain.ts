/**
 * Stage "chain": the OPEN ledger is live. Reads the fixed supply, stakes OPEN as a validator, then slashes part
 * of that stake the way a real dispute ends: a governance proposal, voted by OPEN holders, queued in the
 * timelock and executed, sending the slashed OPEN to the treasury.
 */
import { formatUnits } from 'viem';
import {
  devAccount,
  devRoles,
  encodeCall,
  OPEN,
  OpenTokenArtifact,
  passProposal,
  StakingArtifact,
  stakeFromDeployer,
  stakingRoles,
} from '../../../chain/index.js';
import { keccak256 } from '../../../core/index.js';
import type { DemoStage } from '../context.js';

const STAKE = 20_000n * OPEN;
const SLASH = 5_000n * OPEN;

export const chainStage: DemoStage = {
  name: 'chain',
  async run({ node, out }) {
    const { clients, deployment } = node.chain;
    const token = {
      address: deployment.contracts.OpenToken,
      abi: OpenTokenArtifact.abi,
      contract: 'OpenToken',
    } as const;
    const staking = { address: deployment.contracts.Staking, abi: StakingArtifact.abi, contract: 'Staking' } as const;
    const balanceOf = (a: `0x${string}`) =>
      clients.public.readContract({ ...token, functionName: 'balanceOf', args: [a] });

    const totalSupply = await clients.public.readContract({ ...token, functionName: 'totalSupply' });
    out.note(`  OPEN total supply: ${formatUnits(totalSupply, 18)} OPEN, minted once at deployment`);

    const _deployer = devAccount(devRoles.deployer);
    const validator = devAccount(devRoles.firstUser);
    await stakeFromDeployer(clients, deployment, validator, 'validator', STAKE);
    out.note(`  validator ${validator.address} staked ${formatUnits(STAKE, 18)} OPEN`);

    const reason = 'demo: validator attested a wrong epoch root';
    const reasonHash = keccak256(reason);
    const treasuryBefore = await balanceOf(deployment.contracts.Timelock);
    const proposal = await passProposal({
      clients,
      deployment,
      proposer: devAccount(devRoles.teamBeneficiary),
      voters: [devAccount(devRoles.investorBeneficiary), devAccount(devRoles.teamBeneficiary)],
      actions: [
        {
          target: staking.address,
          data: encodeCall(StakingArtifact.abi, 'slash', [
            validator.address,
            stakingRoles.validator,
            SLASH,
            reasonHash,
          ]),
        },
      ],
      description: `Slash ${formatUnits(SLASH, 18)} OPEN from ${validator.address}: ${reason}`,
    });
    const remaining = await clients.public.readContract({
      ...staking,
      functionName: 'stakeOf',
      args: [validator.address, stakingRoles.validator],
    });
    const treasuryReceived = (await balanceOf(deployment.contracts.Timelock)) - treasuryBefore;
    out.note(
      `  governance proposal ${proposal.proposalId.toString().slice(0, 12)}… passed (voted, queued, executed): slashed ${formatUnits(SLASH, 18)} OPEN to the treasury`,
    );

    return {
      chainId: deployment.chainId,
      contracts: deployment.contracts,
      totalSupply: totalSupply.toString(),
      slashDemo: {
        validator: validator.address,
        staked: STAKE.toString(),
        slashed: SLASH.toString(),
        remaining: remaining.toString(),
        treasuryReceived: treasuryReceived.toString(),
        reasonHash,
        via: 'governance',
        proposalId: proposal.proposalId.toString(),
      },
    };
  },
};
