// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title OPEN, the Tributary token
/// @notice Fixed supply of exactly 1,000,000,000 OPEN, minted once at deployment to an allocation list.
/// There is no mint function: the supply can never grow. Holders vote (after delegating) through ERC20Votes,
/// and approvals can be signed off chain with ERC-2612 permits.
/// @dev The voting clock is the block timestamp (ERC-6372 "mode=timestamp") so governance periods are expressed
/// in seconds and stay correct on chains with different block times (OP Stack L2s produce a block every 2 s).
/// The token also keeps a history of the treasury's balance, so that governance can measure its quorum against the
/// supply that can vote: the treasury (the timelock) never votes, and at deployment it holds most of the supply.
contract OpenToken is ERC20, ERC20Permit, ERC20Votes {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice The whole supply, in wei (18 decimals).
    uint256 public constant TOTAL_SUPPLY = 1_000_000_000 ether;

    /// @notice The protocol treasury (the timelock): supply it holds is supply that cannot vote.
    address public immutable treasury;

    /// @dev Balance of {treasury} after every transfer that touched it, by timestamp.
    Checkpoints.Trace208 private _treasuryBalances;

    /// @notice One line of the initial allocation.
    /// @param recipient Receives `amount` at deployment (a vesting wallet, the treasury, a liquidity account...).
    /// @param amount OPEN wei.
    /// @param label Short name of the allocation ("community", "team"...), recorded in the {Allocated} event.
    struct Allocation {
        address recipient;
        uint256 amount;
        bytes32 label;
    }

    /// @notice The allocation list does not add up to {TOTAL_SUPPLY}.
    error AllocationSumMismatch(uint256 sum, uint256 expected);
    /// @notice The allocation list is empty.
    error EmptyAllocation();
    /// @notice An allocation line has a zero amount.
    error ZeroAllocation(uint256 index);
    /// @notice The treasury is the zero address.
    error ZeroTreasury();

    /// @notice Emitted once per allocation line at deployment.
    event Allocated(address indexed recipient, bytes32 indexed label, uint256 amount);

    /// @param allocations Where the supply goes; the amounts must sum to exactly {TOTAL_SUPPLY}.
    /// @param treasury_ The protocol treasury (the timelock), whose balance history {getPastTreasuryBalance} keeps.
    constructor(Allocation[] memory allocations, address treasury_) ERC20("Open", "OPEN") ERC20Permit("Open") {
        if (treasury_ == address(0)) revert ZeroTreasury();
        treasury = treasury_;
        if (allocations.length == 0) revert EmptyAllocation();
        uint256 sum;
        for (uint256 i = 0; i < allocations.length; ++i) {
            Allocation memory a = allocations[i];
            if (a.amount == 0) revert ZeroAllocation(i);
            sum += a.amount;
        }
        if (sum != TOTAL_SUPPLY) revert AllocationSumMismatch(sum, TOTAL_SUPPLY);
        for (uint256 i = 0; i < allocations.length; ++i) {
            _mint(allocations[i].recipient, allocations[i].amount);
            emit Allocated(allocations[i].recipient, allocations[i].label, allocations[i].amount);
        }
    }

    /// @notice The voting clock: the current block timestamp (ERC-6372).
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice Describes the voting clock (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice The treasury's balance at `timepoint` (a past timestamp; reverts with ERC5805FutureLookup otherwise).
    function getPastTreasuryBalance(uint256 timepoint) public view returns (uint256) {
        return _treasuryBalances.upperLookupRecent(_validateTimepoint(timepoint));
    }

    /// @notice The supply that can vote at `timepoint`: the total supply minus what the treasury held then.
    /// @dev Governance's quorum is a fraction of this, not of the total supply (see {TributaryGovernor-quorum}).
    function getPastVotableSupply(uint256 timepoint) external view returns (uint256) {
        return getPastTotalSupply(timepoint) - getPastTreasuryBalance(timepoint);
    }

    /// @notice The next permit nonce of `owner`.
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
        address t = treasury;
        if (from == t || to == t) _treasuryBalances.push(clock(), SafeCast.toUint208(balanceOf(t)));
    }
}
