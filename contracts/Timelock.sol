// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Tributary timelock and treasury
/// @notice Executes what governance decided after a delay, owns every protocol parameter and holds the
/// treasury (the community allocation and slashed stakes).
contract Timelock is TimelockController {
    /// @param minDelay Seconds between queueing and execution (default 1 day).
    /// @param proposers Accounts allowed to queue (the Governor).
    /// @param executors Accounts allowed to execute (address(0) = anyone).
    /// @param admin Optional bootstrap admin that wires roles and then renounces (address(0) for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
