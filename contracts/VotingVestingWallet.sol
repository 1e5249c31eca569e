// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

/// @title A vesting wallet whose beneficiary can vote with the locked tokens
/// @notice Linear vesting from `start` for `duration` seconds (OpenZeppelin {VestingWallet}); nothing is
/// releasable before `start`, so a cliff is expressed by starting the schedule at the end of the cliff
/// ("12-month cliff, then 36 months linear": start = deployment + 12 months, duration = 36 months).
/// @dev Without delegation, tokens locked in vesting wallets could never vote, and with a quorum measured on the
/// total supply a large locked share would make governance unreachable.
contract VotingVestingWallet is VestingWallet {
    /// @notice Emitted when the beneficiary delegates the wallet's voting power.
    event VotesDelegated(address indexed token, address indexed delegatee);

    /// @param beneficiary Owner of the wallet: receives released tokens and directs the votes.
    /// @param startTimestamp When linear release begins (end of the cliff).
    /// @param durationSeconds Length of the linear release.
    constructor(address beneficiary, uint64 startTimestamp, uint64 durationSeconds)
        VestingWallet(beneficiary, startTimestamp, durationSeconds)
    {}

    /// @notice Delegates the voting power of this wallet's `token` balance to `delegatee`.
    /// @dev Only the beneficiary (owner) may call it; reverts with OwnableUnauthorizedAccount otherwise.
    function delegate(IVotes token, address delegatee) external onlyOwner {
        token.delegate(delegatee);
        emit VotesDelegated(address(token), delegatee);
    }
}
