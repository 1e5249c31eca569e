// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @notice Where redeemed fees go.
interface IFeeSink {
    /// @notice Records `amount` of fees (already transferred) earned by `node` on `channelId`.
    function recordFees(address node, uint256 channelId, uint256 amount) external;
}

/// @title Payment channels for inference
/// @notice A user deposits OPEN into a channel to one serving node. For each request the user signs an EIP-712
/// voucher for the cumulative amount owed so far (bound to this chain, this contract, the channel and the node);
/// the node keeps the latest and redeems it whenever it likes, in one transaction for any number of requests.
/// Redeemed fees go straight to the reward distributor. A channel stops being usable for new requests when it
/// expires; for a settlement grace period after that only the node can act on it (redeem its latest voucher), and
/// only then can the user close it and take back what was never redeemed, so a user cannot close the channel
/// under a node that holds signed vouchers. A voucher can never be redeemed twice (amounts are cumulative) or beyond the
/// deposit.
contract InferenceEscrow is EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice One channel.
    struct Channel {
        address user;
        uint64 expiresAt;
        bool closed;
        address node;
        uint128 deposit;
        uint128 redeemed;
    }

    /// @notice EIP-712 type of a voucher.
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(uint256 channelId,address node,uint256 cumulativeAmount)");

    /// @notice The shortest settlement grace period a deployment may choose.
    uint64 public constant MIN_SETTLEMENT_GRACE = 1 hours;
    /// @notice The longest settlement grace period a deployment may choose.
    uint64 public constant MAX_SETTLEMENT_GRACE = 30 days;

    /// @notice Seconds after a channel's expiry during which only its node can redeem and the user cannot close.
    uint64 public immutable settlementGrace;
    /// @notice The payment token (OPEN).
    IERC20 public immutable token;
    /// @notice Receives redeemed fees (the reward distributor).
    IFeeSink public immutable feeSink;
    /// @notice Number of channels; ids run from 1.
    uint256 public channelCount;

    mapping(uint256 channelId => Channel) private _channels;

    /// @notice No channel has this id.
    error UnknownChannel(uint256 channelId);
    /// @notice Only the channel's node may redeem.
    error NotChannelNode(uint256 channelId, address caller);
    /// @notice Only the channel's user may do this.
    error NotChannelUser(uint256 channelId, address caller);
    /// @notice The voucher is not above what was already redeemed (a replay or an old voucher).
    error VoucherNotNewer(uint256 redeemed, uint256 cumulativeAmount);
    /// @notice The voucher asks for more than the channel holds.
    error ExceedsDeposit(uint256 deposit, uint256 cumulativeAmount);
    /// @notice The voucher was not signed by the channel's user for this channel, node, contract and chain.
    error InvalidVoucherSignature(uint256 channelId, address recovered);
    /// @notice The channel is closed.
    error ChannelClosed(uint256 channelId);
    /// @notice The channel can be closed only from `expiresAt` on.
    error ChannelNotExpired(uint256 channelId, uint64 expiresAt);
    /// @notice The channel expired, but the node may still redeem until `closableAt`.
    error InSettlementGrace(uint256 channelId, uint64 closableAt);
    /// @notice The settlement grace period is outside [{MIN_SETTLEMENT_GRACE}, {MAX_SETTLEMENT_GRACE}].
    error InvalidSettlementGrace(uint64 grace);
    /// @notice An amount or duration of zero was given.
    error ZeroAmount();
    /// @notice The zero address was given.
    error ZeroAddress();

    /// @notice A channel was opened.
    event ChannelOpened(uint256 indexed channelId, address indexed user, address indexed node, uint256 deposit, uint64 expiresAt);
    /// @notice The user added to a channel.
    event ChannelToppedUp(uint256 indexed channelId, uint256 amount, uint256 deposit, uint64 expiresAt);
    /// @notice The node redeemed a voucher for `cumulativeAmount`, receiving `amount` more in fees.
    event VoucherRedeemed(uint256 indexed channelId, address indexed node, uint256 cumulativeAmount, uint256 amount);
    /// @notice The user closed the channel and got `refund` back.
    event ChannelClosedByUser(uint256 indexed channelId, uint256 refund);

    /// @param token_ OPEN.
    /// @param feeSink_ The reward distributor.
    /// @param settlementGrace_ Seconds after expiry reserved for the node to redeem.
    constructor(IERC20 token_, IFeeSink feeSink_, uint64 settlementGrace_) EIP712("Tributary InferenceEscrow", "1") {
        if (address(token_) == address(0) || address(feeSink_) == address(0)) revert ZeroAddress();
        if (settlementGrace_ < MIN_SETTLEMENT_GRACE || settlementGrace_ > MAX_SETTLEMENT_GRACE) {
            revert InvalidSettlementGrace(settlementGrace_);
        }
        settlementGrace = settlementGrace_;
        token = token_;
        feeSink = feeSink_;
    }

    /// @notice Opens a channel to `node` with `amount` OPEN (needs an allowance), closable by the user after
    /// `duration` seconds.
    function openChannel(address node, uint128 amount, uint64 duration) external nonReentrant returns (uint256) {
        return _open(node, amount, duration);
    }

    /// @notice {openChannel} with an ERC-2612 permit instead of a prior approval.
    function openChannelWithPermit(address node, uint128 amount, uint64 duration, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
        returns (uint256)
    {
        // A front-run permit must not block the deposit: the transfer decides.
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        return _open(node, amount, duration);
    }

    /// @notice Adds `amount` OPEN to an open channel and extends it by `extension` seconds (user only).
    function topUp(uint256 channelId, uint128 amount, uint64 extension) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (c.user != msg.sender) revert NotChannelUser(channelId, msg.sender);
        if (c.closed) revert ChannelClosed(channelId);
        if (amount == 0) revert ZeroAmount();
        c.deposit += amount;
        c.expiresAt += extension;
        emit ChannelToppedUp(channelId, amount, c.deposit, c.expiresAt);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Redeems the latest voucher of a channel (node only); the new fees go to the reward distributor.
    /// Allowed until the user closes the channel, which is never before expiry plus the settlement grace.
    /// @param cumulativeAmount Total owed on the channel so far, as signed by the user.
    /// @param signature The user's EIP-712 signature of Voucher(channelId, node, cumulativeAmount).
    function redeem(uint256 channelId, uint256 cumulativeAmount, bytes calldata signature) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (c.node != msg.sender) revert NotChannelNode(channelId, msg.sender);
        if (c.closed) revert ChannelClosed(channelId);
        if (cumulativeAmount <= c.redeemed) revert VoucherNotNewer(c.redeemed, cumulativeAmount);
        if (cumulativeAmount > c.deposit) revert ExceedsDeposit(c.deposit, cumulativeAmount);
        address signer = ECDSA.recover(voucherDigest(channelId, c.node, cumulativeAmount), signature);
        if (signer != c.user) revert InvalidVoucherSignature(channelId, signer);
        uint256 amount = cumulativeAmount - c.redeemed;
        c.redeemed = uint128(cumulativeAmount);
        emit VoucherRedeemed(channelId, msg.sender, cumulativeAmount, amount);
        token.safeTransfer(address(feeSink), amount);
        feeSink.recordFees(msg.sender, channelId, amount);
    }

    /// @notice Closes an expired channel once its settlement grace has passed and refunds what was never redeemed
    /// (user only). Vouchers of a closed channel are worthless, which is why the node gets the grace first.
    function close(uint256 channelId) external nonReentrant {
        Channel storage c = _channel(channelId);
        if (c.user != msg.sender) revert NotChannelUser(channelId, msg.sender);
        if (c.closed) revert ChannelClosed(channelId);
        if (block.timestamp < c.expiresAt) revert ChannelNotExpired(channelId, c.expiresAt);
        uint64 graceEnds = c.expiresAt + settlementGrace;
        if (block.timestamp < graceEnds) revert InSettlementGrace(channelId, graceEnds);
        c.closed = true;
        uint256 refund = c.deposit - c.redeemed;
        emit ChannelClosedByUser(channelId, refund);
        if (refund != 0) token.safeTransfer(msg.sender, refund);
    }

    /// @notice When the user may close `channelId` (expiry plus the settlement grace).
    function closableAt(uint256 channelId) external view returns (uint64) {
        return _channel(channelId).expiresAt + settlementGrace;
    }

    /// @notice A channel; reverts for an unknown id.
    function getChannel(uint256 channelId) external view returns (Channel memory) {
        return _channel(channelId);
    }

    /// @notice The EIP-712 digest a user signs for a voucher.
    function voucherDigest(uint256 channelId, address node, uint256 cumulativeAmount) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, node, cumulativeAmount)));
    }

    function _open(address node, uint128 amount, uint64 duration) private returns (uint256 channelId) {
        if (node == address(0)) revert ZeroAddress();
        if (amount == 0 || duration == 0) revert ZeroAmount();
        channelId = ++channelCount;
        uint64 expiresAt = uint64(block.timestamp) + duration;
        _channels[channelId] = Channel({user: msg.sender, expiresAt: expiresAt, closed: false, node: node, deposit: amount, redeemed: 0});
        emit ChannelOpened(channelId, msg.sender, node, amount, expiresAt);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function _channel(uint256 channelId) private view returns (Channel storage c) {
        c = _channels[channelId];
        if (c.user == address(0)) revert UnknownChannel(channelId);
    }
}
