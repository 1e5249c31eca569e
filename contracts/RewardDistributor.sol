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
    /// @notice Active (bonded) stake.
    function stakeOf(address staker, uint8 role) external view returns (uint256);
    /// @notice Active stake locked behind unfinalized epochs.
    function lockedOf(address staker, uint8 role) external view returns (uint256);
    /// @notice Active plus unbonding stake.
    function slashableOf(address staker, uint8 role) external view returns (uint256);
    /// @notice Slashes `amount` of `staker`'s `role` stake to the treasury.
    function slash(address staker, uint8 role, uint256 amount, bytes32 reasonHash) external;
    /// @notice Locks `amount` of active stake: it cannot be unstaked until unlocked.
    function lock(address staker, uint8 role, uint256 amount) external;
    /// @notice Unlocks up to `amount` of locked stake.
    function unlock(address staker, uint8 role, uint256 amount) external;
}

/// @notice What the distributor needs from ProtocolConfig.
interface IChallengeTerms {
    /// @notice Seconds during which a posted epoch can be challenged.
    function challengeWindow() external view returns (uint64);
    /// @notice OPEN a challenger puts up.
    function challengeBond() external view returns (uint256);
    /// @notice Receives rejected challengers' bonds.
    function platformTreasury() external view returns (address);
    /// @notice Seconds governance has to resolve a challenge before the default (void) applies.
    function resolutionPeriod() external view returns (uint64);
}

/// @title Epoch payouts per serving node: Merkle roots of cumulative amounts, backed by locked stake
/// @notice Each serving node settles its own fees. Fees a node redeems from its channels arrive here and are
/// booked to that node. The node (holding an eligible validator stake: it attests its own epochs) posts its own
/// numbered sequence of epochs, each a Merkle root over (account, cumulative amount owed from this node's fees
/// since the beginning), built deterministically from the epoch's public receipts. Nobody else can post into a
/// node's sequence, so several nodes settle concurrently and independently.
///
/// Safety rules, each enforced here:
/// - Everything an epoch's root could still pay out (its declared total less what the node's payees already claimed)
///   is locked from the node's validator stake until the epoch is final (or void): a wrong root — one that inflates
///   the total or merely moves unclaimed amounts between accounts — can only move as much as the node has at stake,
///   and that stake cannot unbond away from a pending challenge.
/// - A root's declared total is at most the node's fees, and everything claimed under a node's roots is at most
///   the declared total of its final root; challenge bonds are accounted apart from fees.
/// - A challenge has a resolution deadline: governance (RESOLVER_ROLE) upholds (root corrected, the locked stake and
///   more slashed) or rejects (bond forfeited, the window reopens for other watchers); after the deadline the epoch
///   is void — its root never pays and the node posts the same fees again later. Challenges of one node never
///   block another node.
/// - What the chain can check by itself needs no vote: a leaf that lowers an account's cumulative amount under the
///   node's previous final root, or a leaf above the root's declared total, voids the epoch and slashes at once.
/// After the window anyone can claim for any account: payouts are cumulative, so a claim pays only what is new.
contract RewardDistributor is AccessControl, ReentrancyGuardTransient, IFeeSink {
    using SafeERC20 for IERC20;

    /// @notice May record fees (the escrow).
    bytes32 public constant FEE_SOURCE_ROLE = keccak256("FEE_SOURCE_ROLE");
    /// @notice Resolves challenges (the timelock).
    bytes32 public constant RESOLVER_ROLE = keccak256("RESOLVER_ROLE");
    uint8 private constant VALIDATOR = 0;
    uint8 private constant ROLES = 3;

    /// @notice Where an epoch stands.
    enum Status {
        None,
        Pending,
        Challenged,
        Final,
        Void
    }

    /// @notice Why an epoch became void.
    enum VoidReason {
        ResolutionExpired,
        DecreasedLeaf,
        LeafAboveTotal
    }

    /// @notice One posted epoch of one node.
    struct Epoch {
        bytes32 payoutRoot;
        bytes32 receiptsRoot;
        uint128 cumulativeTotal;
        uint128 locked;
        uint64 postedAt;
        uint64 finalAt;
        uint64 resolveBy;
        Status status;
        address challenger;
        uint256 bond;
        string receiptsCID;
    }

    /// @notice One node's settlement state.
    struct NodeState {
        uint64 epochCount;
        uint64 finalizedEpoch;
        bytes32 claimRoot;
        uint128 finalTotal;
        uint128 claimedTotal;
        uint256 feesReceived;
    }

    /// @notice One claim of a batch: `account`'s cumulative amount under `node`'s final root.
    struct ClaimRequest {
        address node;
        address account;
        uint256 cumulativeAmount;
        bytes32[] proof;
    }

    /// @notice The correct epoch, as found by governance when a challenge is upheld.
    struct Correction {
        bytes32 payoutRoot;
        uint128 cumulativeTotal;
        bytes32 receiptsRoot;
        string receiptsCID;
    }

    /// @notice OPEN.
    IERC20 public immutable token;
    /// @notice Stake checks, locks and slashing.
    IStakingView public immutable staking;
    /// @notice Challenge window, bond, resolution period and treasury.
    IChallengeTerms public immutable config;

    /// @notice All fees received, ever, over all nodes.
    uint256 public totalFeesReceived;
    /// @notice Challenge bonds held (never available to claims).
    uint256 public bondsHeld;
    /// @notice What each account has claimed from each node's fees, cumulatively.
    mapping(address node => mapping(address account => uint256)) public claimed;

    mapping(address node => NodeState) private _nodes;
    mapping(address node => mapping(uint256 epoch => Epoch)) private _epochs;

    /// @notice Only an eligible validator stake may post (a node attests its own epochs).
    error NotAttestor(address caller);
    /// @notice Only a staker may challenge.
    error NotStaker(address caller);
    /// @notice Epochs of a node are posted in order: the next one must be `expected`.
    error EpochOutOfOrder(address node, uint256 expected, uint256 given);
    /// @notice The node's previous epoch is still in its challenge window or challenged.
    error PreviousEpochNotFinal(address node, uint256 epoch, Status status, uint64 finalAt);
    /// @notice Cumulative payouts can only grow.
    error TotalDecreased(uint256 previous, uint256 given);
    /// @notice The payouts exceed the fees this node actually redeemed.
    error ExceedsFees(address node, uint256 cumulativeTotal, uint256 feesReceived);
    /// @notice The node's unlocked validator stake cannot back what this epoch's root could pay out.
    error StakeTooLowForEpoch(address node, uint256 atRisk, uint256 unlockedStake);
    /// @notice No such epoch.
    error UnknownEpoch(address node, uint256 epoch);
    /// @notice The epoch cannot be challenged now (not pending, or outside its window).
    error NotChallengeable(address node, uint256 epoch);
    /// @notice The epoch is not challenged.
    error NotChallenged(address node, uint256 epoch);
    /// @notice The resolution deadline passed: the default outcome (void) applies.
    error ResolutionExpired(address node, uint256 epoch, uint64 resolveBy);
    /// @notice The resolution deadline has not passed yet.
    error ResolutionPending(address node, uint256 epoch, uint64 resolveBy);
    /// @notice The epoch is not final yet.
    error NotFinal(address node, uint256 epoch, Status status, uint64 finalAt);
    /// @notice The epoch is already final or void: fraud proofs apply before finality.
    error NotDisputable(address node, uint256 epoch, Status status);
    /// @notice The evidence does not show fraud.
    error NotFraud();
    /// @notice The proof does not prove (account, cumulativeAmount) under the root.
    error InvalidProof(address account, uint256 cumulativeAmount);
    /// @notice Everything owed to `account` up to this root was already claimed.
    error NothingToClaim(address account, uint256 claimed);
    /// @notice Paying this claim would take the node's payouts above its root's declared total.
    error ExceedsDeclaredTotal(address node, uint256 declaredTotal, uint256 wouldBeClaimed);
    /// @notice The zero address was given.
    error ZeroAddress();

    /// @notice `amount` of fees arrived from `node`'s channel.
    event FeesRecorded(address indexed node, uint256 indexed channelId, uint256 amount, uint256 nodeFeesReceived);
    /// @notice A node posted an epoch, locking `locked` of its validator stake behind it.
    event EpochPosted(
        address indexed node,
        uint256 indexed epoch,
        bytes32 payoutRoot,
        uint256 cumulativeTotal,
        bytes32 receiptsRoot,
        string receiptsCID,
        uint64 finalAt,
        uint256 locked
    );
    /// @notice An epoch became final; claims on its node now use its root.
    event EpochFinalized(address indexed node, uint256 indexed epoch, bytes32 payoutRoot, uint256 cumulativeTotal);
    /// @notice A staker challenged an epoch; governance has until `resolveBy`.
    event EpochChallenged(address indexed node, uint256 indexed epoch, address indexed challenger, uint256 bond, uint64 resolveBy);
    /// @notice Governance found the epoch wrong: root replaced, node slashed, bond returned.
    event ChallengeUpheld(address indexed node, uint256 indexed epoch, bytes32 oldRoot, bytes32 newRoot, uint256 slashed);
    /// @notice Governance found the epoch right: the bond went to the treasury and the window reopened until `finalAt`.
    event ChallengeRejected(address indexed node, uint256 indexed epoch, uint256 bondForfeited, uint64 finalAt);
    /// @notice The epoch will never pay (its fees stay with the node for a later epoch); `slashed` taken from the node.
    event EpochVoided(address indexed node, uint256 indexed epoch, VoidReason reason, address by, uint256 slashed);
    /// @notice `amount` was paid to `account` (now `cumulative` in all) from `node`'s fees under its epoch `epoch`.
    event Claimed(address indexed node, address indexed account, uint256 indexed epoch, uint256 amount, uint256 cumulative);

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
        NodeState storage n = _nodes[node];
        n.feesReceived += amount;
        totalFeesReceived += amount;
        emit FeesRecorded(node, channelId, amount, n.feesReceived);
    }

    /// @notice Posts the caller's epoch `epoch` (must be its next) as a root over cumulative payouts of the fees it
    /// redeemed. Settles the caller's previous epoch first when its window or resolution deadline has passed.
    /// Locks `cumulativeTotal − already claimed` of the caller's validator stake (all the root could pay) until this
    /// epoch is final or void.
    /// @param cumulativeTotal Sum of all cumulative payouts under the root; at most the fees this node redeemed.
    /// @param receiptsRoot Merkle root of the epoch's receipts, so anyone can recompute the payouts.
    /// @param receiptsCID Content id of the receipts export.
    function postEpoch(uint256 epoch, bytes32 payoutRoot, uint128 cumulativeTotal, bytes32 receiptsRoot, string calldata receiptsCID)
        external
    {
        address node = msg.sender;
        if (!staking.isEligible(node, VALIDATOR)) revert NotAttestor(node);
        NodeState storage n = _nodes[node];
        uint256 expected = uint256(n.epochCount) + 1;
        if (epoch != expected) revert EpochOutOfOrder(node, expected, epoch);
        if (expected > 1) _settleIfDue(node, n, expected - 1);
        uint256 baseline = n.finalTotal;
        if (cumulativeTotal < baseline) revert TotalDecreased(baseline, cumulativeTotal);
        if (cumulativeTotal > n.feesReceived) revert ExceedsFees(node, cumulativeTotal, n.feesReceived);
        // claimedTotal ≤ finalTotal = baseline ≤ cumulativeTotal: what this root could still pay out.
        uint128 atRisk = cumulativeTotal - n.claimedTotal;
        uint256 unlocked = staking.stakeOf(node, VALIDATOR) - staking.lockedOf(node, VALIDATOR);
        if (atRisk > unlocked) revert StakeTooLowForEpoch(node, atRisk, unlocked);
        uint64 finalAt = uint64(block.timestamp) + config.challengeWindow();
        n.epochCount = uint64(epoch);
        Epoch storage e = _epochs[node][epoch];
        e.payoutRoot = payoutRoot;
        e.receiptsRoot = receiptsRoot;
        e.cumulativeTotal = cumulativeTotal;
        e.locked = atRisk;
        e.postedAt = uint64(block.timestamp);
        e.finalAt = finalAt;
        e.status = Status.Pending;
        e.receiptsCID = receiptsCID;
        emit EpochPosted(node, epoch, payoutRoot, cumulativeTotal, receiptsRoot, receiptsCID, finalAt, atRisk);
        staking.lock(node, VALIDATOR, atRisk);
    }

    /// @notice Makes a pending epoch final once its window has passed unchallenged (anyone may call).
    function finalize(address node, uint256 epoch) external {
        Epoch storage e = _epoch(node, epoch);
        if (e.status != Status.Pending || block.timestamp < e.finalAt) revert NotFinal(node, epoch, e.status, e.finalAt);
        _finalize(node, _nodes[node], epoch, e);
    }

    /// @notice Challenges a pending epoch during its window with the configured bond (stakers only).
    function challenge(address node, uint256 epoch) external nonReentrant {
        if (!_isStaker(msg.sender)) revert NotStaker(msg.sender);
        Epoch storage e = _epoch(node, epoch);
        if (e.status != Status.Pending || block.timestamp >= e.finalAt) revert NotChallengeable(node, epoch);
        uint256 bond = config.challengeBond();
        uint64 resolveBy = uint64(block.timestamp) + config.resolutionPeriod();
        e.status = Status.Challenged;
        e.challenger = msg.sender;
        e.bond = bond;
        e.resolveBy = resolveBy;
        bondsHeld += bond;
        emit EpochChallenged(node, epoch, msg.sender, bond, resolveBy);
        token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice Governance's verdict on a challenged epoch before its deadline (resolver only). Upheld: the root is
    /// replaced by the correction and becomes final, the node is slashed by `slashAmount` but never less than the
    /// stake locked behind the epoch, the bond goes back to the challenger. Rejected: the bond goes to the treasury
    /// and the epoch is pending again, with its window reopened so that a sock-puppet challenge cannot cut it short.
    function resolveChallenge(address node, uint256 epoch, bool upheld, Correction calldata correction, uint256 slashAmount)
        external
        onlyRole(RESOLVER_ROLE)
        nonReentrant
    {
        Epoch storage e = _epoch(node, epoch);
        if (e.status != Status.Challenged) revert NotChallenged(node, epoch);
        if (block.timestamp > e.resolveBy) revert ResolutionExpired(node, epoch, e.resolveBy);
        uint256 bond = e.bond;
        address challenger = e.challenger;
        bondsHeld -= bond;
        e.bond = 0;
        e.challenger = address(0);
        e.resolveBy = 0;
        if (upheld) {
            NodeState storage n = _nodes[node];
            if (correction.cumulativeTotal < n.finalTotal) revert TotalDecreased(n.finalTotal, correction.cumulativeTotal);
            if (correction.cumulativeTotal > n.feesReceived) revert ExceedsFees(node, correction.cumulativeTotal, n.feesReceived);
            bytes32 oldRoot = e.payoutRoot;
            e.payoutRoot = correction.payoutRoot;
            e.cumulativeTotal = correction.cumulativeTotal;
            e.receiptsRoot = correction.receiptsRoot;
            e.receiptsCID = correction.receiptsCID;
            uint256 slashed = _slashLocked(node, epoch, e, slashAmount);
            emit ChallengeUpheld(node, epoch, oldRoot, correction.payoutRoot, slashed);
            _finalize(node, n, epoch, e);
            token.safeTransfer(challenger, bond);
        } else {
            uint64 reopened = uint64(block.timestamp) + config.challengeWindow();
            if (reopened > e.finalAt) e.finalAt = reopened;
            e.status = Status.Pending;
            emit ChallengeRejected(node, epoch, bond, e.finalAt);
            token.safeTransfer(config.platformTreasury(), bond);
        }
    }

    /// @notice Applies the default outcome to a challenge governance did not resolve in time (anyone may call): the
    /// epoch is void, the node's stake unlocked, the challenger's bond returned.
    function resolveExpired(address node, uint256 epoch) external nonReentrant {
        Epoch storage e = _epoch(node, epoch);
        if (e.status != Status.Challenged) revert NotChallenged(node, epoch);
        if (block.timestamp <= e.resolveBy) revert ResolutionPending(node, epoch, e.resolveBy);
        _void(node, epoch, e, VoidReason.ResolutionExpired, false);
    }

    /// @notice Objective fraud proof (anyone): epoch `epoch` of `node` owes `account` less than the node's final root
    /// already did. Cumulative amounts never decrease, so the epoch is void and the node's locked stake slashed.
    function proveDecrease(
        address node,
        uint256 epoch,
        address account,
        uint256 previousAmount,
        bytes32[] calldata previousProof,
        uint256 amount,
        bytes32[] calldata proof
    ) external nonReentrant {
        Epoch storage e = _disputable(node, epoch);
        if (amount >= previousAmount) revert NotFraud();
        if (!MerkleProof.verifyCalldata(previousProof, _nodes[node].claimRoot, payoutLeaf(account, previousAmount))) {
            revert InvalidProof(account, previousAmount);
        }
        if (!MerkleProof.verifyCalldata(proof, e.payoutRoot, payoutLeaf(account, amount))) revert InvalidProof(account, amount);
        _void(node, epoch, e, VoidReason.DecreasedLeaf, true);
    }

    /// @notice Objective fraud proof (anyone): one leaf of epoch `epoch` of `node` is above the root's declared total.
    function proveLeafAboveTotal(address node, uint256 epoch, address account, uint256 amount, bytes32[] calldata proof)
        external
        nonReentrant
    {
        Epoch storage e = _disputable(node, epoch);
        if (amount <= e.cumulativeTotal) revert NotFraud();
        if (!MerkleProof.verifyCalldata(proof, e.payoutRoot, payoutLeaf(account, amount))) revert InvalidProof(account, amount);
        _void(node, epoch, e, VoidReason.LeafAboveTotal, true);
    }

    /// @notice Pays `account` what `node`'s final root owes it beyond what it already claimed (anyone may call).
    function claim(address node, address account, uint256 cumulativeAmount, bytes32[] calldata proof) external nonReentrant {
        _claim(node, account, cumulativeAmount, proof);
    }

    /// @notice Several claims, on any nodes, in one transaction.
    function claimMany(ClaimRequest[] calldata claims) external nonReentrant {
        for (uint256 i = 0; i < claims.length; ++i) {
            ClaimRequest calldata c = claims[i];
            _claim(c.node, c.account, c.cumulativeAmount, c.proof);
        }
    }

    /// @notice A posted epoch of `node`.
    function getEpoch(address node, uint256 epoch) external view returns (Epoch memory) {
        return _epoch(node, epoch);
    }

    /// @notice `node`'s settlement state: epochs posted and final, claim root, declared and claimed totals, fees.
    function nodeState(address node) external view returns (NodeState memory) {
        return _nodes[node];
    }

    /// @notice The leaf of (account, cumulativeAmount) in a payout tree (OpenZeppelin standard leaf).
    function payoutLeaf(address account, uint256 cumulativeAmount) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
    }

    function _claim(address node, address account, uint256 cumulativeAmount, bytes32[] calldata proof) private {
        NodeState storage n = _nodes[node];
        if (!MerkleProof.verifyCalldata(proof, n.claimRoot, payoutLeaf(account, cumulativeAmount))) revert InvalidProof(account, cumulativeAmount);
        uint256 already = claimed[node][account];
        if (cumulativeAmount <= already) revert NothingToClaim(account, already);
        uint256 amount = cumulativeAmount - already;
        uint256 claimedAfter = uint256(n.claimedTotal) + amount;
        if (claimedAfter > n.finalTotal) revert ExceedsDeclaredTotal(node, n.finalTotal, claimedAfter);
        claimed[node][account] = cumulativeAmount;
        n.claimedTotal = uint128(claimedAfter);
        emit Claimed(node, account, n.finalizedEpoch, amount, cumulativeAmount);
        token.safeTransfer(account, amount);
    }

    /// @dev Before a node's next epoch: its previous one must be final or void; settles it if its time has come.
    function _settleIfDue(address node, NodeState storage n, uint256 epoch) private {
        Epoch storage prev = _epochs[node][epoch];
        if (prev.status == Status.Pending && block.timestamp >= prev.finalAt) {
            _finalize(node, n, epoch, prev);
        } else if (prev.status == Status.Challenged && block.timestamp > prev.resolveBy) {
            _void(node, epoch, prev, VoidReason.ResolutionExpired, false);
        }
        if (prev.status != Status.Final && prev.status != Status.Void) {
            revert PreviousEpochNotFinal(node, epoch, prev.status, prev.finalAt);
        }
    }

    function _finalize(address node, NodeState storage n, uint256 epoch, Epoch storage e) private {
        e.status = Status.Final;
        n.finalizedEpoch = uint64(epoch);
        n.claimRoot = e.payoutRoot;
        n.finalTotal = e.cumulativeTotal;
        uint256 locked = e.locked;
        e.locked = 0;
        emit EpochFinalized(node, epoch, e.payoutRoot, e.cumulativeTotal);
        if (locked != 0) staking.unlock(node, VALIDATOR, locked);
    }

    /// @dev The epoch never pays. With `fraud`, the stake locked behind it is slashed; a pending bond goes back.
    function _void(address node, uint256 epoch, Epoch storage e, VoidReason reason, bool fraud) private {
        e.status = Status.Void;
        uint256 bond = e.bond;
        address challenger = e.challenger;
        e.bond = 0;
        e.challenger = address(0);
        e.resolveBy = 0;
        bondsHeld -= bond;
        uint256 slashed;
        if (fraud) slashed = _slashLocked(node, epoch, e, 0);
        else _unlock(node, e);
        emit EpochVoided(node, epoch, reason, msg.sender, slashed);
        if (bond != 0) token.safeTransfer(challenger, bond);
    }

    function _unlock(address node, Epoch storage e) private returns (uint256 locked) {
        locked = e.locked;
        e.locked = 0;
        if (locked != 0) staking.unlock(node, VALIDATOR, locked);
    }

    /// @dev Unlocks the epoch's stake and slashes at least that much (more if `amount` asks), capped by what is left.
    function _slashLocked(address node, uint256 epoch, Epoch storage e, uint256 amount) private returns (uint256 slashed) {
        uint256 locked = _unlock(node, e);
        slashed = amount > locked ? amount : locked;
        uint256 slashable = staking.slashableOf(node, VALIDATOR);
        if (slashed > slashable) slashed = slashable;
        if (slashed != 0) staking.slash(node, VALIDATOR, slashed, keccak256(abi.encode("tributary.epoch", node, epoch)));
    }

    function _disputable(address node, uint256 epoch) private view returns (Epoch storage e) {
        e = _epoch(node, epoch);
        if (e.status != Status.Pending && e.status != Status.Challenged) revert NotDisputable(node, epoch, e.status);
    }

    function _epoch(address node, uint256 epoch) private view returns (Epoch storage e) {
        e = _epochs[node][epoch];
        if (e.status == Status.None) revert UnknownEpoch(node, epoch);
    }

    function _isStaker(address account) private view returns (bool) {
        for (uint8 role = 0; role < ROLES; ++role) {
            if (staking.isEligible(account, role)) return true;
        }
        return false;
    }
}
