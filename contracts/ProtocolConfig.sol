// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Protocol parameters of payable inference, owned by governance
/// @notice Fee = T_in/1000·R_in + T_out/1000·R_out + F_platform, where R_in and R_out are the model's prices
/// (ModelRegistry) and F_platform = flat + bps × token fee. F_net = Fee − F_platform is split β to the model
/// owner, γ to stakers and δ to contributors; the part of δ attributed to no live contribution goes to
/// {unattributedRecipient}. Every setter is owned by the timelock: parameters change only through a governance vote.
contract ProtocolConfig is Ownable {
    uint16 private constant MAX_BPS = 10_000;
    /// @notice The longest challenge window governance may set.
    uint64 public constant MAX_CHALLENGE_WINDOW = 30 days;
    /// @notice The shortest challenge window: watchers need time to fetch an export and recompute it.
    uint64 public constant MIN_CHALLENGE_WINDOW = 1 hours;
    /// @notice The highest flat platform fee per request (10 OPEN): above it no request is worth paying for.
    uint256 public constant MAX_PLATFORM_FEE_FLAT = 10 ether;
    /// @notice The highest challenge bond (100,000 OPEN): above it nobody could afford to challenge.
    uint256 public constant MAX_CHALLENGE_BOND = 100_000 ether;
    /// @notice Bounds of the resolution period: governance needs ≥ 1 day; a dispute must not hang for months.
    uint64 public constant MIN_RESOLUTION_PERIOD = 1 days;
    /// @notice See {MIN_RESOLUTION_PERIOD}.
    uint64 public constant MAX_RESOLUTION_PERIOD = 60 days;

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
    /// @notice Seconds governance has to resolve a challenge; after that the challenged epoch is void (its root
    /// never pays; the node posts the fees again in a later epoch) and the challenger gets the bond back.
    uint64 public resolutionPeriod;
    /// @dev See {unattributedRecipient}; zero means "the platform treasury".
    address private _unattributedRecipient;

    /// @notice β + γ + δ must be exactly 10,000 basis points.
    error InvalidSplit(uint256 sumBps);
    /// @notice Basis points above 10,000.
    error InvalidBps(uint256 bps);
    /// @notice The challenge window must be between {MIN_CHALLENGE_WINDOW} and {MAX_CHALLENGE_WINDOW}.
    error InvalidChallengeWindow(uint64 window);
    /// @notice The flat platform fee is above {MAX_PLATFORM_FEE_FLAT}.
    error PlatformFeeFlatTooHigh(uint256 flat, uint256 max);
    /// @notice The challenge bond must be above zero and at most {MAX_CHALLENGE_BOND}.
    error InvalidChallengeBond(uint256 bond);
    /// @notice The resolution period must be between {MIN_RESOLUTION_PERIOD} and {MAX_RESOLUTION_PERIOD}.
    error InvalidResolutionPeriod(uint64 period);
    /// @notice The zero address was given.
    error ZeroAddress();
    /// @notice Unattributed shares cannot be sent to this contract, which cannot spend them.
    error InvalidUnattributedRecipient(address recipient);

    /// @notice The platform fee changed.
    event PlatformFeeSet(uint16 bps, uint256 flat);
    /// @notice The fee split changed.
    event SplitSet(uint16 ownerBps, uint16 stakerBps, uint16 contributorBps);
    /// @notice The challenge window or bond changed.
    event ChallengeTermsSet(uint64 window, uint256 bond);
    /// @notice The platform treasury changed.
    event PlatformTreasurySet(address treasury);
    /// @notice The resolution period of challenges changed.
    event ResolutionPeriodSet(uint64 period);
    /// @notice Where unattributed shares go changed (zero: the platform treasury).
    event UnattributedRecipientSet(address recipient);

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
        uint64 resolutionPeriod;
    }

    /// @param owner_ The timelock.
    /// @param p Initial parameters.
    constructor(address owner_, Params memory p) Ownable(owner_) {
        _setPlatformFee(p.platformFeeBps, p.platformFeeFlat);
        _setSplit(p.ownerShareBps, p.stakerShareBps, p.contributorShareBps);
        _setChallengeTerms(p.challengeWindow, p.challengeBond);
        _setPlatformTreasury(p.platformTreasury);
        _setResolutionPeriod(p.resolutionPeriod);
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

    /// @notice Sets how long governance has to resolve a challenge (governance).
    function setResolutionPeriod(uint64 period) external onlyOwner {
        _setResolutionPeriod(period);
    }

    /// @notice Sets where unattributed shares go (governance); zero makes them follow the platform treasury.
    /// @dev Settlement reads it at each epoch's stake block and carries it in the epoch export, where auditors check it.
    function setUnattributedRecipient(address recipient) external onlyOwner {
        if (recipient == address(this)) revert InvalidUnattributedRecipient(recipient);
        _unattributedRecipient = recipient;
        emit UnattributedRecipientSet(recipient);
    }

    /// @notice Receives the contributors' share that no live contribution is attributed: what attribution leaves
    /// unattributed, the share of withdrawn contributions and the whole share of a request without an attribution.
    /// The platform treasury unless governance set another recipient; never a DataNet's treasury by default, since
    /// its owner would then gain from every share attribution misses.
    function unattributedRecipient() external view returns (address) {
        address recipient = _unattributedRecipient;
        return recipient == address(0) ? platformTreasury : recipient;
    }

    /// @notice Every parameter, in one call.
    function params() external view returns (Params memory) {
        return Params(
            platformFeeBps,
            platformFeeFlat,
            ownerShareBps,
            stakerShareBps,
            contributorShareBps,
            challengeWindow,
            challengeBond,
            platformTreasury,
            resolutionPeriod
        );
    }

    function _setPlatformFee(uint16 bps, uint256 flat) private {
        if (bps > MAX_BPS) revert InvalidBps(bps);
        if (flat > MAX_PLATFORM_FEE_FLAT) revert PlatformFeeFlatTooHigh(flat, MAX_PLATFORM_FEE_FLAT);
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
        if (window < MIN_CHALLENGE_WINDOW || window > MAX_CHALLENGE_WINDOW) revert InvalidChallengeWindow(window);
        if (bond == 0 || bond > MAX_CHALLENGE_BOND) revert InvalidChallengeBond(bond);
        challengeWindow = window;
        challengeBond = bond;
        emit ChallengeTermsSet(window, bond);
    }

    function _setPlatformTreasury(address treasury) private {
        if (treasury == address(0)) revert ZeroAddress();
        platformTreasury = treasury;
        emit PlatformTreasurySet(treasury);
    }

    function _setResolutionPeriod(uint64 period) private {
        if (period < MIN_RESOLUTION_PERIOD || period > MAX_RESOLUTION_PERIOD) revert InvalidResolutionPeriod(period);
        resolutionPeriod = period;
        emit ResolutionPeriodSet(period);
    }
}
