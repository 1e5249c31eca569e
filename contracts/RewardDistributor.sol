// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IFeeSink} from "./InferenceEscrow.sol";

/// @notice What the distributor needs from Staking (roles as their enum index: 0 validator, 1 serving node, 2 agent).
interface IStakingView {
    /// @notice Whether `staker` holds at least the minimum stake for `role`.
    function isEligible(address staker, uint8 role) external view returns (bool);
    /// @notice Active plus unbonding stake.
    function slashableOf(address staker, uint8 role) external view returns (uint256);
    /// @notice Slashes `amount` of `staker`'s `role` stake to the treasury.
    function slash(address staker, uint8 role, uint256 amount, bytes32 reasonHash) external;
}

/// @notice What the distributor needs from ProtocolConfig.
interface IChallengeTerms {
    /// @notice Seconds during which a posted epoch can be challenged.
    function challengeWindow() external view returns (uint64);
    /// @notice OPEN a challenger puts up.
    function challengeBond() external view returns (uint256);
    /// @notice Receives rejected challengers' bonds.
    function platformTreasury() external view returns (address);
}

/// @title Epoch payouts: one Merkle root of cumulative amounts per epoch, claimed with proofs
/// @notice Redeemed inference fees arrive here from the escrow. At the end of an epoch a staked validator (the
/// attestor) posts a Merkle root over (account, cumulative amount owed since the beginning), built
/// deterministically from the epoch's public receipts, with the receipts' root and content id so anyone can
/// recompute it. During the challenge window any staker can challenge it with a bond; governance (the timelock)
/// resolves: a wrong root is replaced and its attestor slashed, a frivolous challenger loses the bond. After the
/// window anyone can claim for any account: payouts are cumulative, so a claim pays only what is new and claiming
/// twice pays nothing. Posting costs the same whatever the number of payees.
contract RewardDistributor is AccessControl, ReentrancyGuardTransient, IFeeSink {
    using SafeERC20 for IERC20;

    /// @notice May record fees (the escrow).
    bytes32 public constant FEE_SOURCE_ROLE = keccak256("FEE_SOURCE_ROLE");
    /// @notice Resolves challenges (the timelock).
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");
    uint8 private constant VALIDATOR = 0;
    uint8 private constant ROLES = 3;

    /// @notice One posted epoch.
    struct Epoch {
        bytes32 payoutRoot;
        bytes32 receiptsRoot;
        uint128 cumulativeTotal;
        uint64 postedAt;
        uint64 finalAt;
        address attestor;
        bool challenged;
        address challenger;
        uint256 bond;
        string receiptsCID;
    }

    /// @notice OPEN.
    IERC20 public immutable token;
    /// @notice Stake checks and slashing.
    IStakingView public immutable staking;
    /// @notice Challenge window, bond and treasury.
    IChallengeTerms public immutable config;

    /// @notice Number of posted epochs.
    uint256 public epochCount;
    /// @notice The newest final epoch (claims use its root).
    uint256 public finalizedEpoch;
    /// @notice Root of the newest final epoch.
    bytes32 public claimRoot;
    /// @notice All fees received, ever.
    uint256 public feesReceived;
    /// @notice What each account has claimed, cumulatively.
    mapping(address account => uint256) public claimed;

    mapping(uint256 epoch => Epoch) private _epochs;

    /// @notice Only an eligible validator stake may post.
    error NotAttestor(address caller);
    /// @notice Only a staker may challenge.
    error NotStaker(address caller);
    /// @notice Epochs are posted in order: the next one must be `expected`.
    error EpochOutOfOrder(uint256 expected, uint256 given);
    /// @notice The previous epoch is still in its challenge window or challenged.
    error PreviousEpochNotFinal(uint256 epoch, uint64 finalAt, bool challenged);
    /// @notice Cumulative payouts can only grow.
    error TotalDecreased(uint256 previous, uint256 given);
    /// @notice The payouts exceed the fees actually received.
    error ExceedsFees(uint256 cumulativeTotal, uint256 feesReceived);
    /// @notice No such epoch.
    error UnknownEpoch(uint256 epoch);
    /// @notice The epoch cannot be challenged now (not the newest, final, or outside its window).
    error NotChallengeable(uint256 epoch);
    /// @notice The epoch is already challenged.
    error AlreadyChallenged(uint256 epoch);
    /// @notice The epoch is not challenged.
    error NotChallenged(uint256 epoch);
    /// @notice The epoch is not final yet.
    error NotFinal(uint256 epoch, uint64 finalAt, bool challenged);
    /// @notice The proof does not prove (account, cumulativeAmount) under the claim root.
    error InvalidProof(address account, uint256 cumulativeAmount);
    /// @notice Everything owed to `account` up to this root was already claimed.
    error NothingToClaim(address account, uint256 claimed);
    /// @notice Argument arrays differ in length.
    error LengthMismatch();
    /// @notice The zero address was given.
    error ZeroAddress();

    /// @notice `amount` of fees arrived from `node`'s channel.
    event FeesRecorded(address indexed node, uint256 indexed channelId, uint256 amount, uint256 feesReceived);
    /// @notice An attestor posted an epoch.
    event EpochPosted(
        uint256 indexed epoch,
        address indexed attestor,
        bytes32 payoutRoot,
        uint256 cumulativeTotal,
        bytes32 receiptsRoot,
        string receiptsCID,
        uint64 finalAt
    );
    /// @notice An epoch became final; claims now use its root.
    event EpochFinalized(uint256 indexed epoch, bytes32 payoutRoot);
    /// @notice A staker challenged an epoch.
    event EpochChallenged(uint256 indexed epoch, address indexed challenger, uint256 bond);
    /// @notice Governance found the epoch wrong: root replaced, attestor slashed, bond returned.
    event ChallengeUpheld(uint256 indexed epoch, bytes32 oldRoot, bytes32 newRoot, uint256 slashed);
    /// @notice Governance found the epoch right: the challenger's bond went to the treasury.
    event ChallengeRejected(uint256 indexed epoch, uint256 bondForfeited);
    /// @notice `amount` was paid to `account` (now `cumulative` in all) under epoch `epoch`'s root.
    event Claimed(address indexed account, uint256 indexed epoch, uint256 amount, uint256 cumulative);

    /// @param admin Grants roles during deployment; the timelock afterwards.
    constructor(IERC20 token_, IStakingView staking_, IChallengeTerms config_, address admin) {
        if (address(token_) == address(0) || address(staking_) == address(0) || address(config_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        token = token_;
        staking = staking_;
        config = config_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IFeeSink
    function recordFees(address node, uint256 channelId, uint256 amount) external onlyRole(FEE_SOURCE_ROLE) {
        feesReceived += amount;
        emit FeesRecorded(node, channelId, amount, feesReceived);
    }

    /// @notice Posts epoch `epoch` (must be the next) as a root over cumulative payouts (eligible validators only).
    /// Finalizes the previous epoch first if its window has passed.
    /// @param cumulativeTotal Sum of all cumulative payouts under the root; at most the fees received.
    /// @param receiptsRoot Merkle root of the epoch's receipts, so anyone can recompute the payouts.
    /// @param receiptsCID Content id of the receipts export.
    function postEpoch(uint256 epoch, bytes32 payoutRoot, uint128 cumulativeTotal, bytes32 receiptsRoot, string calldata receiptsCID)
        external
    {
        if (!staking.isEligible(msg.sender, VALIDATOR)) revert NotAttestor(msg.sender);
        uint256 expected = epochCount + 1;
        if (epoch != expected) revert EpochOutOfOrder(expected, epoch);
        uint256 previousTotal;
        if (expected > 1) {
            Epoch storage prev = _epochs[expected - 1];
            if (finalizedEpoch < expected - 1) {
                if (prev.challenged || block.timestamp < prev.finalAt) revert PreviousEpochNotFinal(expected - 1, prev.finalAt, prev.challenged);
                _finalize(expected - 1, prev);
            }
            previousTotal = prev.cumulativeTotal;
        }
        if (cumulativeTotal < previousTotal) revert TotalDecreased(previousTotal, cumulativeTotal);
        if (cumulativeTotal > feesReceived) revert ExceedsFees(cumulativeTotal, feesReceived);
        uint64 finalAt = uint64(block.timestamp) + config.challengeWindow();
        epochCount = epoch;
        Epoch storage e = _epochs[epoch];
        e.payoutRoot = payoutRoot;
        e.receiptsRoot = receiptsRoot;
        e.cumulativeTotal = cumulativeTotal;
        e.postedAt = uint64(block.timestamp);
        e.finalAt = finalAt;
        e.attestor = msg.sender;
        e.receiptsCID = receiptsCID;
        emit EpochPosted(epoch, msg.sender, payoutRoot, cumulativeTotal, receiptsRoot, receiptsCID, finalAt);
    }

    /// @notice Makes the newest epoch final once its window has passed unchallenged (anyone may call).
    function finalize(uint256 epoch) external {
        if (epoch == 0 || epoch > epochCount) revert UnknownEpoch(epoch);
        Epoch storage e = _epochs[epoch];
        if (epoch != finalizedEpoch + 1 || e.challenged || block.timestamp < e.finalAt) revert NotFinal(epoch, e.finalAt, e.challenged);
        _finalize(epoch, e);
    }

    /// @notice Challenges the newest epoch during its window with the configured bond (stakers only).
    function challenge(uint256 epoch) external nonReentrant {
        if (!_isStaker(msg.sender)) revert NotStaker(msg.sender);
        if (epoch == 0 || epoch > epochCount) revert UnknownEpoch(epoch);
        Epoch storage e = _epochs[epoch];
        if (e.challenged) revert AlreadyChallenged(epoch);
        if (epoch != epochCount || epoch <= finalizedEpoch || block.timestamp >= e.finalAt) revert NotChallengeable(epoch);
        uint256 bond = config.challengeBond();
        e.challenged = true;
        e.challenger = msg.sender;
        e.bond = bond;
        emit EpochChallenged(epoch, msg.sender, bond);
        if (bond != 0) token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice The correct epoch, as found by governance when a challenge is upheld.
    struct Correction {
        bytes32 payoutRoot;
        uint128 cumulativeTotal;
        bytes32 receiptsRoot;
        string receiptsCID;
    }

    /// @notice Governance's verdict on a challenged epoch (resolver only). Upheld: the root is replaced by the
    /// correction, the attestor's validator stake is slashed by up to `slashAmount`, the bond goes back to the
    /// challenger. Rejected: the bond goes to the treasury. Either way the epoch is final at once.
    function resolveChallenge(uint256 epoch, bool upheld, Correction calldata correction, uint256 slashAmount)
        external
        onlyRole(RESOLVER_ROLE)
        nonReentrant
    {
        if (epoch == 0 || epoch > epochCount) revert UnknownEpoch(epoch);
        Epoch storage e = _epochs[epoch];
        if (!e.challenged) revert NotChallenged(epoch);
        e.challenged = false;
        e.finalAt = uint64(block.timestamp);
        uint256 bond = e.bond;
        e.bond = 0;
        if (upheld) {
            _uphold(epoch, e, correction, slashAmount);
            if (bond != 0) token.safeTransfer(e.challenger, bond);
        } else {
            emit ChallengeRejected(epoch, bond);
            if (bond != 0) token.safeTransfer(config.platformTreasury(), bond);
        }
        // Only the newest epoch can be challenged, and its predecessor is final, so it becomes the claim root.
        _finalize(epoch, e);
    }

    /// @notice Pays `account` what the claim root owes it beyond what it already claimed (anyone may call).
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external nonReentrant {
        _claim(account, cumulativeAmount, proof);
    }

    /// @notice Several claims in one transaction.
    function claimMany(address[] calldata accounts, uint256[] calldata cumulativeAmounts, bytes32[][] calldata proofs) external nonReentrant {
        if (accounts.length != cumulativeAmounts.length || accounts.length != proofs.length) revert LengthMismatch();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _claim(accounts[i], cumulativeAmounts[i], proofs[i]);
        }
    }

    /// @notice A posted epoch.
    function getEpoch(uint256 epoch) external view returns (Epoch memory) {
        if (epoch == 0 || epoch > epochCount) revert UnknownEpoch(epoch);
        return _epochs[epoch];
    }

    /// @notice The leaf of (account, cumulativeAmount) in a payout tree (OpenZeppelin standard leaf).
    function payoutLeaf(address account, uint256 cumulativeAmount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
    }

    function _claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) private {
        if (!MerkleProof.verifyCalldata(proof, claimRoot, payoutLeaf(account, cumulativeAmount))) revert InvalidProof(account, cumulativeAmount);
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) revert NothingToClaim(account, already);
        claimed[account] = cumulativeAmount;
        uint256 amount = cumulativeAmount - already;
        emit Claimed(account, finalizedEpoch, amount, cumulativeAmount);
        token.safeTransfer(account, amount);
    }

    function _uphold(uint256 epoch, Epoch storage e, Correction calldata c, uint256 slashAmount) private {
        uint256 previousTotal = epoch > 1 ? _epochs[epoch - 1].cumulativeTotal : 0;
        if (c.cumulativeTotal < previousTotal) revert TotalDecreased(previousTotal, c.cumulativeTotal);
        if (c.cumulativeTotal > feesReceived) revert ExceedsFees(c.cumulativeTotal, feesReceived);
        bytes32 oldRoot = e.payoutRoot;
        e.payoutRoot = c.payoutRoot;
        e.cumulativeTotal = c.cumulativeTotal;
        e.receiptsRoot = c.receiptsRoot;
        e.receiptsCID = c.receiptsCID;
        uint256 slashable = staking.slashableOf(e.attestor, VALIDATOR);
        uint256 slashed = slashAmount < slashable ? slashAmount : slashable;
        emit ChallengeUpheld(epoch, oldRoot, c.payoutRoot, slashed);
        if (slashed != 0) staking.slash(e.attestor, VALIDATOR, slashed, keccak256(abi.encode("tributary.epoch", epoch, oldRoot)));
    }

    function _finalize(uint256 epoch, Epoch storage e) private {
        finalizedEpoch = epoch;
        claimRoot = e.payoutRoot;
        emit EpochFinalized(epoch, e.payoutRoot);
    }

    function _isStaker(address account) private view returns (bool) {
        for (uint8 role = 0; role < ROLES; ++role) {
            if (staking.isEligible(account, role)) return true;
        }
        return false;
    }
}
