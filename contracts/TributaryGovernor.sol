// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @notice What the governor needs from OPEN beyond ERC-5805 votes: the treasury and the supply that can vote.
interface IVotableSupply {
    /// @notice The treasury, whose balance never votes.
    function treasury() external view returns (address);
    /// @notice Total supply minus the treasury's balance at a past `timepoint`.
    function getPastVotableSupply(uint256 timepoint) external view returns (uint256);
}

/// @title Tributary governance
/// @notice OPEN holders propose and vote; passed proposals are queued in and executed by the {Timelock}, which
/// owns the protocol parameters (platform fee, fee split, challenge window, staking minimums) and the slasher role.
/// @dev Periods are in seconds because OPEN's clock is the block timestamp. Defaults follow OpenLedger's audited
/// setup: 1-day voting delay, 2-week voting period, 100 OPEN proposal threshold, 25% quorum.
///
/// Quorum rule (issue 10, attack 7). At deployment the treasury (the timelock) holds the 61.71% community
/// allocation and never votes, so every vote that exists belongs to the insiders: team 15% and investors 18.29%
/// (vesting wallets) and liquidity 5%. With OpenZeppelin's rule (for + abstain >= 25% of the total supply) one
/// holder of those 38.29% passed proposals alone: it slashed an honest validator and took the treasury. Here:
///  1. the quorum is a fraction of the supply that can vote at the snapshot: total supply minus the treasury's
///     balance ({IVotableSupply-getPastVotableSupply}), so it means "a quarter of the votes that exist";
///  2. the quorum must be met without the largest single vote: the for + abstain votes of everyone but the
///     heaviest for/abstain voter must reach it (and be non-zero). No delegate, however large, passes alone.
/// With the default allocation the quorum is 25% x 38.29% = 9.57% of the supply; a holder of all three insider
/// allocations voting as one delegate leaves 0 to the others: Defeated. A holder of one vesting allocation plus the
/// liquidity cannot pass however it splits its delegation: a vesting wallet delegates as one block and releases
/// nothing before its cliff, so that wallet is the largest vote and the rest is at most 5% < 9.57%. Team and
/// investors (two parties) together still pass (15% besides the largest 18.29%). Votes are delegated, so a holder
/// of both vesting wallets could delegate them to two addresses: that is why a non-local deployment refuses to
/// start without explicit, separate team and investor beneficiaries (src/chain/network.ts).
contract TributaryGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl
{
    /// @notice The heaviest for/abstain vote of a proposal: it does not count towards the quorum.
    /// @param voter Who cast it.
    /// @param weight Its votes.
    struct LargestVote {
        address voter;
        uint256 weight;
    }

    mapping(uint256 proposalId => LargestVote) private _largestVotes;

    /// @notice The token's treasury is not this governor's timelock, so the votable supply would exclude the
    /// wrong account.
    error GovernorTreasuryNotTimelock(address treasury, address timelock);

    /// @param token OPEN (ERC20Votes).
    /// @param timelock Executor of passed proposals.
    /// @param votingDelaySeconds Time between proposing and the vote snapshot/start.
    /// @param votingPeriodSeconds Length of the vote.
    /// @param proposalThresholdWei Votes needed to propose.
    /// @param quorumPercent Quorum as a percentage of the supply that can vote at the snapshot (total supply minus
    /// the treasury), met without the largest single vote.
    constructor(
        IVotes token,
        TimelockController timelock,
        uint48 votingDelaySeconds,
        uint32 votingPeriodSeconds,
        uint256 proposalThresholdWei,
        uint256 quorumPercent
    )
        Governor("Tributary Governor")
        GovernorSettings(votingDelaySeconds, votingPeriodSeconds, proposalThresholdWei)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(quorumPercent)
        GovernorTimelockControl(timelock)
    {
        address treasury = IVotableSupply(address(token)).treasury();
        if (treasury != address(timelock)) revert GovernorTreasuryNotTimelock(treasury, address(timelock));
    }

    /// @notice The heaviest for/abstain vote of `proposalId` so far (zero if none), which the quorum leaves out.
    function largestVote(uint256 proposalId) external view returns (address voter, uint256 weight) {
        LargestVote storage v = _largestVotes[proposalId];
        return (v.voter, v.weight);
    }

    /// @notice What counts towards `proposalId`'s quorum (for + abstain votes but the largest one) and the quorum.
    function quorumProgress(uint256 proposalId) external view returns (uint256 counted, uint256 required) {
        return (_countedForQuorum(proposalId), quorum(proposalSnapshot(proposalId)));
    }

    /// @inheritdoc Governor
    function votingDelay() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingDelay();
    }

    /// @inheritdoc Governor
    function votingPeriod() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.votingPeriod();
    }

    /// @notice Votes needed at `timepoint`: the quorum fraction of the supply that can vote then (total supply minus
    /// the treasury's balance), not of the total supply: the treasury never votes.
    function quorum(uint256 timepoint) public view override(Governor, GovernorVotesQuorumFraction) returns (uint256) {
        return Math.mulDiv(
            IVotableSupply(address(token())).getPastVotableSupply(timepoint),
            quorumNumerator(timepoint),
            quorumDenominator()
        );
    }

    /// @dev Reached when the for + abstain votes of everyone but the largest for/abstain voter meet the quorum (and
    /// are not zero, so that an empty votable supply cannot reach it either).
    function _quorumReached(uint256 proposalId) internal view override(Governor, GovernorCountingSimple) returns (bool) {
        uint256 counted = _countedForQuorum(proposalId);
        return counted != 0 && counted >= quorum(proposalSnapshot(proposalId));
    }

    /// @dev Counts the vote as {GovernorCountingSimple} does, and remembers the heaviest for/abstain vote.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple)
        returns (uint256)
    {
        uint256 counted = super._countVote(proposalId, account, support, totalWeight, params);
        if (support != uint8(VoteType.Against) && counted > _largestVotes[proposalId].weight) {
            _largestVotes[proposalId] = LargestVote({voter: account, weight: counted});
        }
        return counted;
    }

    function _countedForQuorum(uint256 proposalId) private view returns (uint256) {
        (, uint256 forVotes, uint256 abstainVotes) = proposalVotes(proposalId);
        return forVotes + abstainVotes - _largestVotes[proposalId].weight;
    }

    /// @inheritdoc Governor
    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    /// @inheritdoc Governor
    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    /// @inheritdoc Governor
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
