// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title OPEN staking with unbonding and slashing
/// @notice Accounts stake OPEN for a role: validator/attestor (posts and checks settlement epochs), serving node
/// (serves paid inference) or agent. Each role has a minimum stake. Leaving takes two steps: request an unstake,
/// then withdraw after the unbonding period. While bonded or unbonding, stake can be slashed by a holder of
/// {SLASHER_ROLE} (governance's timelock, and the settlement dispute contract): the slashed OPEN goes to the
/// treasury and the event carries a hash of the reason. A holder of {LOCKER_ROLE} (the reward distributor) can lock
/// part of an active stake while it backs an epoch that is not final yet: locked stake cannot be unstaked, so an
/// attestor cannot escape a pending slash by unbonding (governance takes longer than any unbonding period).
/// Stake history is checkpointed per timestamp so later
/// components can weigh stakers (reward pools, votes) at a fixed past moment.
contract Staking is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using Checkpoints for Checkpoints.Trace208;
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice What a stake is for.
    enum Role {
        Validator,
        ServingNode,
        Agent
    }

    /// @notice One pending unstake request.
    struct Unbonding {
        uint192 amount;
        uint64 releaseAt;
    }

    struct Position {
        uint256 active;
        uint256 unbonding;
        uint256 head;
        Unbonding[] queue;
        uint256 locked;
    }

    /// @notice May slash stakers.
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice May lock and unlock stake that backs unfinalized settlement epochs (the reward distributor).
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");
    /// @notice Bounds the unbonding queue so that slashing and withdrawing stay within a fixed gas budget.
    uint256 public constant MAX_PENDING_UNBONDINGS = 32;
    /// @notice Governance cannot lock stakes for longer than this.
    uint64 public constant MAX_UNBONDING_PERIOD = 365 days;
    /// @notice Governance cannot make unbonding shorter than this: a slash decided by vote must still find the stake.
    uint64 public constant MIN_UNBONDING_PERIOD = 1 days;
    uint256 private constant ROLE_COUNT = 3;

    /// @notice The staked token (OPEN).
    IERC20 public immutable token;
    /// @notice Receives slashed stake.
    address public treasury;
    /// @notice Seconds between an unstake request and the withdrawal it allows.
    uint64 public unbondingPeriod;
    /// @notice Sum of active stake over all stakers and roles.
    uint256 public totalActive;
    /// @notice Sum of pending unbonding stake over all stakers and roles.
    uint256 public totalUnbonding;

    uint256[ROLE_COUNT] private _minimumStake;
    mapping(address staker => mapping(Role => Position)) private _positions;
    mapping(address staker => mapping(Role => Checkpoints.Trace208)) private _stakeHistory;
    mapping(Role => Checkpoints.Trace208) private _totalStakeHistory;
    mapping(Role => EnumerableSet.AddressSet) private _stakers;

    /// @notice An amount of zero was given.
    error ZeroAmount();
    /// @notice The zero address was given where an account is required.
    error ZeroAddress();
    /// @notice The stake left for `role` would be above zero but below the role's minimum.
    error BelowMinimumStake(Role role, uint256 resulting, uint256 minimum);
    /// @notice Asked to unstake more than is actively staked.
    error InsufficientStake(uint256 requested, uint256 available);
    /// @notice No unbonding request has matured yet; `nextReleaseAt` is the earliest pending release (0 if none).
    error NothingToWithdraw(address staker, Role role, uint256 nextReleaseAt);
    /// @notice Asked to slash more than the staker's active plus unbonding stake for the role.
    error SlashExceedsStake(address staker, Role role, uint256 requested, uint256 slashable);
    /// @notice The staker already has {MAX_PENDING_UNBONDINGS} pending requests for the role.
    error TooManyPendingUnbondings(uint256 max);
    /// @notice The unbonding period exceeds {MAX_UNBONDING_PERIOD}.
    error UnbondingPeriodTooLong(uint64 requested, uint64 max);
    /// @notice The unbonding period is below {MIN_UNBONDING_PERIOD}.
    error UnbondingPeriodTooShort(uint64 requested, uint64 min);
    /// @notice The unstake would leave less active stake than is locked behind unfinalized epochs.
    error StakeLocked(address staker, Role role, uint256 locked, uint256 remaining);
    /// @notice Asked to lock more than the active stake not yet locked.
    error InsufficientUnlockedStake(address staker, Role role, uint256 requested, uint256 unlocked);
    /// @notice The treasury cannot be the staking contract itself (slashed stake would never leave it).
    error InvalidTreasury(address treasury);
    /// @notice A historical view was asked about the present or the future.
    error FutureLookup(uint256 timepoint, uint48 currentClock);

    /// @notice `staker` added `amount` to its `role` stake.
    event Staked(address indexed staker, Role indexed role, uint256 amount, uint256 activeAfter);
    /// @notice `staker` started unbonding `amount`, withdrawable from `releaseAt`.
    event UnstakeRequested(
        address indexed staker, Role indexed role, uint256 amount, uint64 releaseAt, uint256 activeAfter
    );
    /// @notice `staker` withdrew `amount` of matured unbonding stake.
    event Withdrawn(address indexed staker, Role indexed role, uint256 amount);
    /// @notice `slasher` took `amount` from `staker` (first from active, then from unbonding) for `reasonHash`.
    event Slashed(
        address indexed staker,
        Role indexed role,
        uint256 amount,
        uint256 fromActive,
        uint256 fromUnbonding,
        bytes32 indexed reasonHash,
        address slasher
    );
    /// @notice `locker` locked `amount` of `staker`'s active `role` stake (now `lockedAfter` in all).
    event StakeLockChanged(address indexed staker, Role indexed role, int256 delta, uint256 lockedAfter, address locker);
    /// @notice The minimum stake of `role` changed.
    event MinimumStakeSet(Role indexed role, uint256 amount);
    /// @notice The unbonding period changed (applies to new requests only).
    event UnbondingPeriodSet(uint64 secondsToUnbond);
    /// @notice The treasury changed.
    event TreasurySet(address indexed treasury);

    /// @param token_ The staked token.
    /// @param treasury_ Receives slashed stake.
    /// @param admin Holds DEFAULT_ADMIN_ROLE (parameters and role grants); the timelock once deployment is wired.
    /// @param unbondingPeriod_ Seconds from an unstake request to its withdrawal.
    /// @param minimums Minimum stake per role, indexed by {Role}.
    constructor(
        IERC20 token_,
        address treasury_,
        address admin,
        uint64 unbondingPeriod_,
        uint256[ROLE_COUNT] memory minimums
    ) {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setTreasury(treasury_);
        _setUnbondingPeriod(unbondingPeriod_);
        for (uint256 i = 0; i < ROLE_COUNT; ++i) {
            _setMinimumStake(Role(i), minimums[i]);
        }
    }

    // ----------------------------------------------------------------------------------------------- staking

    /// @notice Stakes `amount` OPEN for `role`, pulling it from the caller (needs an allowance).
    function stake(Role role, uint256 amount) external nonReentrant {
        _stake(msg.sender, role, amount);
    }

    /// @notice Stakes with an ERC-2612 permit instead of a prior approval.
    /// @dev A failing permit is ignored so that a front-run permit cannot block the stake; the transfer then
    /// succeeds only if the allowance exists.
    function stakeWithPermit(Role role, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(msg.sender, role, amount);
    }

    /// @notice Starts unbonding `amount` of the caller's `role` stake; it stays slashable until withdrawn.
    /// @dev The remaining active stake must be zero or at least the role's minimum.
    function requestUnstake(Role role, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender][role];
        if (amount > p.active) revert InsufficientStake(amount, p.active);
        if (p.queue.length - p.head >= MAX_PENDING_UNBONDINGS) revert TooManyPendingUnbondings(MAX_PENDING_UNBONDINGS);
        uint256 remaining = p.active - amount;
        uint256 minimum = _minimumStake[uint256(role)];
        if (remaining != 0 && remaining < minimum) revert BelowMinimumStake(role, remaining, minimum);
        if (remaining < p.locked) revert StakeLocked(msg.sender, role, p.locked, remaining);

        uint64 releaseAt = uint64(block.timestamp) + unbondingPeriod;
        p.queue.push(Unbonding({amount: amount.toUint192(), releaseAt: releaseAt}));
        p.unbonding += amount;
        totalUnbonding += amount;
        _setActive(msg.sender, role, p, remaining);
        emit UnstakeRequested(msg.sender, role, amount, releaseAt, remaining);
    }

    /// @notice Withdraws every matured unbonding request of the caller for `role`, whatever its place in the queue
    /// (a later request can mature first when governance shortened the unbonding period).
    /// @return amount OPEN sent to the caller.
    function withdraw(Role role) external nonReentrant returns (uint256 amount) {
        Position storage p = _positions[msg.sender][role];
        uint256 end = p.queue.length;
        uint256 nextReleaseAt;
        for (uint256 i = p.head; i < end; ++i) {
            Unbonding storage u = p.queue[i];
            if (u.amount == 0) continue;
            if (u.releaseAt <= block.timestamp) {
                amount += u.amount;
                u.amount = 0;
            } else if (nextReleaseAt == 0 || u.releaseAt < nextReleaseAt) {
                nextReleaseAt = u.releaseAt;
            }
        }
        if (amount == 0) revert NothingToWithdraw(msg.sender, role, nextReleaseAt);
        uint256 head = p.head;
        while (head < end && p.queue[head].amount == 0) {
            delete p.queue[head];
            ++head;
        }
        p.head = head;
        p.unbonding -= amount;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, role, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------------------------------------- locks

    /// @notice Locks `amount` of `staker`'s active `role` stake (locker only): it cannot be unstaked until unlocked.
    function lock(address staker, Role role, uint256 amount) external onlyRole(LOCKER_ROLE) {
        if (amount == 0) return;
        Position storage p = _positions[staker][role];
        uint256 unlocked = p.active - p.locked;
        if (amount > unlocked) revert InsufficientUnlockedStake(staker, role, amount, unlocked);
        p.locked += amount;
        emit StakeLockChanged(staker, role, int256(amount), p.locked, msg.sender);
    }

    /// @notice Unlocks up to `amount` of `staker`'s locked `role` stake (locker only; a slash may have taken part).
    function unlock(address staker, Role role, uint256 amount) external onlyRole(LOCKER_ROLE) {
        Position storage p = _positions[staker][role];
        uint256 take = amount < p.locked ? amount : p.locked;
        if (take == 0) return;
        p.locked -= take;
        emit StakeLockChanged(staker, role, -int256(take), p.locked, msg.sender);
    }

    /// @notice Active stake of `staker` for `role` locked behind unfinalized epochs.
    function lockedOf(address staker, Role role) external view returns (uint256) {
        return _positions[staker][role].locked;
    }

    // ---------------------------------------------------------------------------------------------- slashing

    /// @notice Slashes `amount` of `staker`'s `role` stake, active first and then unbonding (newest first),
    /// and sends it to the treasury.
    /// @param reasonHash Hash of the evidence or decision (e.g. a disputed epoch's id), kept in the event.
    function slash(address staker, Role role, uint256 amount, bytes32 reasonHash)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
    {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[staker][role];
        uint256 slashable = p.active + p.unbonding;
        if (amount > slashable) revert SlashExceedsStake(staker, role, amount, slashable);

        uint256 fromActive = amount < p.active ? amount : p.active;
        uint256 fromUnbonding = amount - fromActive;
        if (fromActive != 0) _setActive(staker, role, p, p.active - fromActive);
        if (fromUnbonding != 0) _slashUnbonding(p, fromUnbonding);
        // A lock can never exceed what is left to lock; the event keeps indexers of lockedOf in step.
        if (p.locked > p.active) {
            uint256 cut = p.locked - p.active;
            p.locked = p.active;
            emit StakeLockChanged(staker, role, -int256(cut), p.locked, msg.sender);
        }

        emit Slashed(staker, role, amount, fromActive, fromUnbonding, reasonHash, msg.sender);
        token.safeTransfer(treasury, amount);
    }

    // -------------------------------------------------------------------------------------------- parameters

    /// @notice Sets the minimum stake of `role` (admin only). Existing stakes below it stay but are not eligible.
    function setMinimumStake(Role role, uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setMinimumStake(role, amount);
    }

    /// @notice Sets the unbonding period for future requests (admin only).
    function setUnbondingPeriod(uint64 secondsToUnbond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingPeriod(secondsToUnbond);
    }

    /// @notice Sets where slashed stake goes (admin only).
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    // ------------------------------------------------------------------------------------------------- views

    /// @notice Active (bonded) stake of `staker` for `role`.
    function stakeOf(address staker, Role role) external view returns (uint256) {
        return _positions[staker][role].active;
    }

    /// @notice Pending unbonding stake of `staker` for `role` (matured or not, not yet withdrawn).
    function unbondingOf(address staker, Role role) external view returns (uint256) {
        return _positions[staker][role].unbonding;
    }

    /// @notice Everything that can still be slashed: active plus unbonding.
    function slashableOf(address staker, Role role) external view returns (uint256) {
        Position storage p = _positions[staker][role];
        return p.active + p.unbonding;
    }

    /// @notice Pending unbonding requests of `staker` for `role`, oldest first.
    function unbondingRequests(address staker, Role role) external view returns (Unbonding[] memory out) {
        Position storage p = _positions[staker][role];
        uint256 n;
        for (uint256 i = p.head; i < p.queue.length; ++i) {
            if (p.queue[i].amount != 0) ++n;
        }
        out = new Unbonding[](n);
        n = 0;
        for (uint256 i = p.head; i < p.queue.length; ++i) {
            if (p.queue[i].amount != 0) out[n++] = p.queue[i];
        }
    }

    /// @notice Whether `staker` holds at least the minimum (and a non-zero) active stake for `role`.
    function isEligible(address staker, Role role) external view returns (bool) {
        uint256 active = _positions[staker][role].active;
        return active != 0 && active >= _minimumStake[uint256(role)];
    }

    /// @notice The minimum stake of `role`.
    function minimumStake(Role role) external view returns (uint256) {
        return _minimumStake[uint256(role)];
    }

    /// @notice Total active stake for `role`.
    function totalStake(Role role) external view returns (uint256) {
        return _totalStakeHistory[role].latest();
    }

    /// @notice Active stake of `staker` for `role` at a past `timepoint` (a timestamp before the current block).
    function stakeAt(address staker, Role role, uint256 timepoint) external view returns (uint256) {
        return _stakeHistory[staker][role].upperLookupRecent(_pastTimepoint(timepoint));
    }

    /// @notice Total active stake for `role` at a past `timepoint`.
    function totalStakeAt(Role role, uint256 timepoint) external view returns (uint256) {
        return _totalStakeHistory[role].upperLookupRecent(_pastTimepoint(timepoint));
    }

    /// @notice Number of accounts with active stake for `role`.
    function stakerCount(Role role) external view returns (uint256) {
        return _stakers[role].length();
    }

    /// @notice A page of the accounts with active stake for `role` (order is not stable across changes).
    function stakers(Role role, uint256 offset, uint256 limit) external view returns (address[] memory page) {
        EnumerableSet.AddressSet storage set = _stakers[role];
        uint256 n = set.length();
        uint256 end = offset >= n || limit >= n - offset ? n : offset + limit;
        page = new address[](offset < end ? end - offset : 0);
        for (uint256 i = 0; i < page.length; ++i) {
            page[i] = set.at(offset + i);
        }
    }

    /// @notice The checkpoint clock: the block timestamp (ERC-6372).
    function clock() public view returns (uint48) {
        return Time.timestamp();
    }

    /// @notice Describes the checkpoint clock (ERC-6372).
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    // ---------------------------------------------------------------------------------------------- internal

    function _stake(address staker, Role role, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[staker][role];
        uint256 activeAfter = p.active + amount;
        uint256 minimum = _minimumStake[uint256(role)];
        if (activeAfter < minimum) revert BelowMinimumStake(role, activeAfter, minimum);
        _setActive(staker, role, p, activeAfter);
        emit Staked(staker, role, amount, activeAfter);
        token.safeTransferFrom(staker, address(this), amount);
    }

    /// @dev The one place active stake changes: keeps totals, checkpoints and the staker set in step.
    function _setActive(address staker, Role role, Position storage p, uint256 newActive) private {
        uint256 old = p.active;
        p.active = newActive;
        totalActive = totalActive - old + newActive;
        uint48 now_ = clock();
        _stakeHistory[staker][role].push(now_, newActive.toUint208());
        Checkpoints.Trace208 storage total = _totalStakeHistory[role];
        total.push(now_, (total.latest() - old + newActive).toUint208());
        if (newActive == 0) _stakers[role].remove(staker);
        else _stakers[role].add(staker);
    }

    /// @dev Takes `amount` from the newest pending requests first: they are the furthest from leaving.
    function _slashUnbonding(Position storage p, uint256 amount) private {
        p.unbonding -= amount;
        totalUnbonding -= amount;
        uint256 i = p.queue.length;
        while (amount != 0) {
            Unbonding storage u = p.queue[--i];
            uint256 take = amount < u.amount ? amount : u.amount;
            u.amount -= uint192(take);
            amount -= take;
            if (u.amount == 0 && i == p.queue.length - 1) p.queue.pop();
        }
        if (p.head > p.queue.length) p.head = p.queue.length;
    }

    function _pastTimepoint(uint256 timepoint) private view returns (uint48) {
        uint48 current = clock();
        if (timepoint >= current) revert FutureLookup(timepoint, current);
        return uint48(timepoint);
    }

    function _setMinimumStake(Role role, uint256 amount) private {
        _minimumStake[uint256(role)] = amount;
        emit MinimumStakeSet(role, amount);
    }

    function _setUnbondingPeriod(uint64 secondsToUnbond) private {
        if (secondsToUnbond > MAX_UNBONDING_PERIOD) revert UnbondingPeriodTooLong(secondsToUnbond, MAX_UNBONDING_PERIOD);
        if (secondsToUnbond < MIN_UNBONDING_PERIOD) revert UnbondingPeriodTooShort(secondsToUnbond, MIN_UNBONDING_PERIOD);
        unbondingPeriod = secondsToUnbond;
        emit UnbondingPeriodSet(secondsToUnbond);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert ZeroAddress();
        if (treasury_ == address(this)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
