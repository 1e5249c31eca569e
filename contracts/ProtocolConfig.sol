// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Protocol parameters of payable inference, owned by governance
/// @notice Fee = T_in/1000·R_in + T_out/1000·R_out + F_platform, where R_in and R_out are the model's prices
/// (ModelRegistry) and F_platform = flat + bps × token fee. F_net = Fee − F_platform is split β to the model
/// owner, γ to stakers and δ to contributors. Every setter is owned by the timelock: parameters change only
/// through a governance vote.
contract ProtocolConfig is Ownable {
    uint16 private constant MAX_BPS = 10_000;
    /// @notice The longest challenge window governance may set.
    uint64 public constant MAX_CHALLENGE_WINDOW = 30 days;

    /// @notice Platform fee as basis points of the token fee.
    uint16 public platformFeeBps;
    /// @notice Platform fee per request, in OPEN wei.
    uint256 public platformFeeFlat;
    /// @notice β: the model owner's share of F_net, in basis points.
    uint16 public ownerShareBps;
    /// @notice γ: the stakers' share of F_net, in basis points.
    uint16 public stakerShareBps;
    /// @notice δ: the contributors' share of F_net, in basis points.
    uint16 public contributorShareBps;
    /// @notice Seconds during which a posted epoch can be challenged.
    uint64 public challengeWindow;
    /// @notice OPEN a challenger puts up; lost if the challenge is rejected.
    uint256 public challengeBond;
    /// @notice Receives the platform fee.
    address public platformTreasury;

    /// @notice β + γ + δ must be exactly 10,000 basis points.
    error InvalidSplit(uint256 sumBps);
    /// @notice Basis points above 10,000.
    error InvalidBps(uint256 bps);
    /// @notice The challenge window must be between 1 second and {MAX_CHALLENGE_WINDOW}.
    error InvalidChallengeWindow(uint64 window);
    /// @notice The zero address was given.
    error ZeroAddress();

    /// @notice The platform fee changed.
    event PlatformFeeSet(uint16 bps, uint256 flat);
    /// @notice The fee split changed.
    event SplitSet(uint16 ownerBps, uint16 stakerBps, uint16 contributorBps);
    /// @notice The challenge window or bond changed.
    event ChallengeTermsSet(uint64 window, uint256 bond);
    /// @notice The platform treasury changed.
    event PlatformTreasurySet(address treasury);

    /// @notice All parameters at once (see the setters).
    struct Params {
        uint16 platformFeeBps;
        uint256 platformFeeFlat;
        uint16 ownerShareBps;
        uint16 stakerShareBps;
        uint16 contributorShareBps;
        uint64 challengeWindow;
        uint256 challengeBond;
        address platformTreasury;
    }

    /// @param owner_ The timelock.
    /// @param p Initial parameters.
    constructor(address owner_, Params memory p) Ownable(owner_) {
        _setPlatformFee(p.platformFeeBps, p.platformFeeFlat);
        _setSplit(p.ownerShareBps, p.stakerShareBps, p.contributorShareBps);
        _setChallengeTerms(p.challengeWindow, p.challengeBond);
        _setPlatformTreasury(p.platformTreasury);
    }

    /// @notice Sets the platform fee (governance).
    function setPlatformFee(uint16 bps, uint256 flat) external onlyOwner {
        _setPlatformFee(bps, flat);
    }

    /// @notice Sets β, γ, δ (governance); they must sum to 10,000.
    function setSplit(uint16 ownerBps, uint16 stakerBps, uint16 contributorBps) external onlyOwner {
        _setSplit(ownerBps, stakerBps, contributorBps);
    }

    /// @notice Sets the challenge window and bond (governance).
    function setChallengeTerms(uint64 window, uint256 bond) external onlyOwner {
        _setChallengeTerms(window, bond);
    }

    /// @notice Sets where platform fees go (governance).
    function setPlatformTreasury(address treasury) external onlyOwner {
        _setPlatformTreasury(treasury);
    }

    /// @notice Every parameter, in one call.
    function params() external view returns (Params memory) {
        return Params(
            platformFeeBps, platformFeeFlat, ownerShareBps, stakerShareBps, contributorShareBps, challengeWindow, challengeBond, platformTreasury
        );
    }

    function _setPlatformFee(uint16 bps, uint256 flat) private {
        if (bps > MAX_BPS) revert InvalidBps(bps);
        platformFeeBps = bps;
        platformFeeFlat = flat;
        emit PlatformFeeSet(bps, flat);
    }

    function _setSplit(uint16 ownerBps, uint16 stakerBps, uint16 contributorBps) private {
        uint256 sum = uint256(ownerBps) + stakerBps + contributorBps;
        if (sum != MAX_BPS) revert InvalidSplit(sum);
        ownerShareBps = ownerBps;
        stakerShareBps = stakerBps;
        contributorShareBps = contributorBps;
        emit SplitSet(ownerBps, stakerBps, contributorBps);
    }

    function _setChallengeTerms(uint64 window, uint256 bond) private {
        if (window == 0 || window > MAX_CHALLENGE_WINDOW) revert InvalidChallengeWindow(window);
        challengeWindow = window;
        challengeBond = bond;
        emit ChallengeTermsSet(window, bond);
    }

    function _setPlatformTreasury(address treasury) private {
        if (treasury == address(0)) revert ZeroAddress();
        platformTreasury = treasury;
        emit PlatformTreasurySet(treasury);
    }
}
