// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title DataNet registry: community datasets committed as one Merkle root per version
/// @notice A DataNet is a domain dataset run by an owner and its curators. Contributors sign their contributions
/// off chain (EIP-712, bound to this contract and chain) and pay no gas; a curator commits each published version
/// as a Merkle root over its contributions, so every contribution is provable on chain for a few hundred gas per
/// contribution at commit time. A DataNet may require contributors to keep an OPEN bond here; a contribution a
/// curator rejects as spam or adversarial forfeits a set part of the bond to the DataNet's treasury — once per
/// contribution, and only for a contribution the contributor really signed (the curator hands in that signature).
/// @dev Leaves follow OpenZeppelin's StandardMerkleTree layout:
/// keccak256(bytes.concat(keccak256(abi.encode(dataNetId, contributor, contentHash, licenseId)))).
/// Signatures are EIP-712 in the domain {name: "Tributary DataNetRegistry", version: "1", chainId, this contract}
/// (src/core/eip712.ts holds the same definitions for the TypeScript side).
contract DataNetRegistry is ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice A DataNet's settings.
    struct DataNet {
        address owner;
        address treasury;
        bytes32 schemaHash;
        bytes32 licenseId;
        uint256 bondAmount;
        uint16 forfeitBps;
        uint64 versionCount;
        string metadataCID;
    }

    /// @notice One committed version.
    struct Version {
        bytes32 root;
        uint64 count;
        uint64 committedAt;
        string manifestCID;
    }

    /// @notice Contributors wait this long between asking for their bond back and getting it, so that a
    /// contribution under review can still forfeit it.
    uint64 public constant BOND_WITHDRAWAL_DELAY = 3 days;
    /// @notice EIP-712 type hash of the contribution message every contributor signs off chain.
    bytes32 public constant CONTRIBUTION_TYPEHASH =
        keccak256("Contribution(uint256 dataNetId,bytes32 contentHash,bytes32 licenseId,uint256 nonce,uint256 deadline)");
    uint16 private constant MAX_BPS = 10_000;

    /// @notice The bond token (OPEN).
    IERC20 public immutable token;
    /// @notice Number of DataNets created; ids run from 1 to dataNetCount.
    uint256 public dataNetCount;

    mapping(uint256 id => DataNet) private _dataNets;
    mapping(uint256 id => mapping(address account => bool)) private _curators;
    mapping(uint256 id => mapping(uint64 version => Version)) private _versions;
    mapping(uint256 id => mapping(address contributor => uint256)) private _bonds;
    mapping(uint256 id => mapping(address contributor => uint256)) private _bondWithdrawableAt;
    mapping(uint256 id => mapping(address contributor => mapping(bytes32 contentHash => bool))) private _forfeited;

    /// @notice No DataNet has this id.
    error UnknownDataNet(uint256 dataNetId);
    /// @notice Only the DataNet's owner may do this.
    error NotOwner(uint256 dataNetId, address caller);
    /// @notice Only the DataNet's owner or a curator may do this.
    error NotCurator(uint256 dataNetId, address caller);
    /// @notice Versions are committed in order: the next one must be `expected`.
    error VersionOutOfOrder(uint256 dataNetId, uint64 expected, uint64 given);
    /// @notice The version does not exist (yet).
    error UnknownVersion(uint256 dataNetId, uint64 version);
    /// @notice A version must have a non-zero root and at least one contribution.
    error EmptyVersion();
    /// @notice The zero address was given where an account is required.
    error ZeroAddress();
    /// @notice Basis points above 10,000.
    error InvalidBps(uint256 bps);
    /// @notice An amount of zero was given.
    error ZeroAmount();
    /// @notice The contributor has no bond to forfeit or withdraw.
    error NoBond(uint256 dataNetId, address contributor);
    /// @notice The bond cannot be withdrawn before `withdrawableAt` (0 = no withdrawal requested).
    error BondLocked(uint256 dataNetId, address contributor, uint256 withdrawableAt);
    /// @notice Asked to withdraw more bond than deposited.
    error InsufficientBond(uint256 requested, uint256 available);
    /// @notice The account is already (or is not) a curator.
    error CuratorUnchanged(uint256 dataNetId, address account, bool isCurator);
    /// @notice The signature handed in is not `contributor`'s EIP-712 signature of a contribution of
    /// `contentHash` to this DataNet (under its license) on this registry and chain.
    error InvalidContributionSignature(uint256 dataNetId, address contributor, bytes32 contentHash);
    /// @notice `contributor`'s contribution of `contentHash` to the DataNet already forfeited its part of the bond.
    error AlreadyForfeited(uint256 dataNetId, address contributor, bytes32 contentHash);

    /// @notice A DataNet was created.
    event DataNetCreated(
        uint256 indexed dataNetId,
        address indexed owner,
        string metadataCID,
        bytes32 schemaHash,
        bytes32 licenseId,
        uint256 bondAmount,
        uint16 forfeitBps,
        address treasury
    );
    /// @notice The DataNet's metadata document changed.
    event MetadataUpdated(uint256 indexed dataNetId, string metadataCID);
    /// @notice Ownership moved to `newOwner`.
    event OwnershipTransferred(uint256 indexed dataNetId, address indexed previousOwner, address indexed newOwner);
    /// @notice `account` became a curator.
    event CuratorAdded(uint256 indexed dataNetId, address indexed account);
    /// @notice `account` stopped being a curator.
    event CuratorRemoved(uint256 indexed dataNetId, address indexed account);
    /// @notice Version `version` was committed with Merkle root `root` over `count` contributions.
    event VersionCommitted(
        uint256 indexed dataNetId, uint64 indexed version, bytes32 root, uint64 count, string manifestCID, address committer
    );
    /// @notice `contributor` added to its bond.
    event BondDeposited(uint256 indexed dataNetId, address indexed contributor, uint256 amount, uint256 bondAfter);
    /// @notice `contributor` asked for its bond back, available from `withdrawableAt`.
    event BondWithdrawalRequested(uint256 indexed dataNetId, address indexed contributor, uint256 withdrawableAt);
    /// @notice `contributor`'s pending withdrawal request (due at `withdrawableAt`) was cancelled by a deposit or
    /// a forfeit; a new request starts the full delay again.
    event BondWithdrawalCancelled(uint256 indexed dataNetId, address indexed contributor, uint256 withdrawableAt);
    /// @notice `contributor` took back `amount` of its bond.
    event BondWithdrawn(uint256 indexed dataNetId, address indexed contributor, uint256 amount);
    /// @notice A curator rejected `contentHash` as spam or adversarial, forfeiting `amount` to the treasury.
    event BondForfeited(
        uint256 indexed dataNetId,
        address indexed contributor,
        bytes32 indexed contentHash,
        uint256 amount,
        bytes32 reasonHash,
        address curator
    );

    /// @param token_ The bond token (OPEN).
    constructor(IERC20 token_) EIP712("Tributary DataNetRegistry", "1") {
        if (address(token_) == address(0)) revert ZeroAddress();
        token = token_;
    }

    modifier onlyOwnerOf(uint256 dataNetId) {
        if (_dataNet(dataNetId).owner != msg.sender) revert NotOwner(dataNetId, msg.sender);
        _;
    }

    modifier onlyCuratorOf(uint256 dataNetId) {
        if (!isCurator(dataNetId, msg.sender)) revert NotCurator(dataNetId, msg.sender);
        _;
    }

    // ----------------------------------------------------------------------------------------------- DataNets

    /// @notice Creates a DataNet owned by the caller.
    /// @param metadataCID Content id of the metadata document (name, description, JSON schema, policies).
    /// @param schemaHash keccak256 of the canonical JSON schema rows must follow.
    /// @param licenseId Identifier of the license contributions are given under (e.g. keccak256("CC-BY-4.0")).
    /// @param bondAmount OPEN each contributor must keep bonded (0 = no bond).
    /// @param forfeitBps Part of `bondAmount` forfeited per contribution rejected as spam (basis points).
    /// @param treasury Receives forfeited bonds.
    /// @return dataNetId The new DataNet's id.
    function createDataNet(
        string calldata metadataCID,
        bytes32 schemaHash,
        bytes32 licenseId,
        uint256 bondAmount,
        uint16 forfeitBps,
        address treasury
    ) external returns (uint256 dataNetId) {
        if (treasury == address(0)) revert ZeroAddress();
        if (forfeitBps > MAX_BPS) revert InvalidBps(forfeitBps);
        dataNetId = ++dataNetCount;
        _dataNets[dataNetId] = DataNet({
            owner: msg.sender,
            treasury: treasury,
            schemaHash: schemaHash,
            licenseId: licenseId,
            bondAmount: bondAmount,
            forfeitBps: forfeitBps,
            versionCount: 0,
            metadataCID: metadataCID
        });
        emit DataNetCreated(dataNetId, msg.sender, metadataCID, schemaHash, licenseId, bondAmount, forfeitBps, treasury);
    }

    /// @notice Points the DataNet at a new metadata document (owner only). The schema and license stay fixed.
    function updateMetadata(uint256 dataNetId, string calldata metadataCID) external onlyOwnerOf(dataNetId) {
        _dataNets[dataNetId].metadataCID = metadataCID;
        emit MetadataUpdated(dataNetId, metadataCID);
    }

    /// @notice Hands the DataNet to `newOwner` (owner only).
    function transferOwnership(uint256 dataNetId, address newOwner) external onlyOwnerOf(dataNetId) {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(dataNetId, msg.sender, newOwner);
        _dataNets[dataNetId].owner = newOwner;
    }

    /// @notice Makes `account` a curator (owner only).
    function addCurator(uint256 dataNetId, address account) external onlyOwnerOf(dataNetId) {
        if (account == address(0)) revert ZeroAddress();
        if (_curators[dataNetId][account]) revert CuratorUnchanged(dataNetId, account, true);
        _curators[dataNetId][account] = true;
        emit CuratorAdded(dataNetId, account);
    }

    /// @notice Removes `account` from the curators (owner only).
    function removeCurator(uint256 dataNetId, address account) external onlyOwnerOf(dataNetId) {
        if (!_curators[dataNetId][account]) revert CuratorUnchanged(dataNetId, account, false);
        _curators[dataNetId][account] = false;
        emit CuratorRemoved(dataNetId, account);
    }

    // ----------------------------------------------------------------------------------------------- versions

    /// @notice Commits version `version` (must be the next one) as a Merkle root over `count` contributions.
    /// @dev Taking the version number explicitly makes a retried or concurrent commit fail instead of creating a
    /// second version with the same content.
    function commitVersion(
        uint256 dataNetId,
        uint64 version,
        bytes32 merkleRoot,
        uint64 count,
        string calldata manifestCID
    ) external onlyCuratorOf(dataNetId) {
        DataNet storage d = _dataNets[dataNetId];
        uint64 expected = d.versionCount + 1;
        if (version != expected) revert VersionOutOfOrder(dataNetId, expected, version);
        if (merkleRoot == bytes32(0) || count == 0) revert EmptyVersion();
        d.versionCount = version;
        _versions[dataNetId][version] =
            Version({root: merkleRoot, count: count, committedAt: uint64(block.timestamp), manifestCID: manifestCID});
        emit VersionCommitted(dataNetId, version, merkleRoot, count, manifestCID, msg.sender);
    }

    /// @notice Whether `leaf` is in version `version` of the DataNet, given its Merkle `proof`.
    function verifyContribution(uint256 dataNetId, uint64 version, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, getVersion(dataNetId, version).root, leaf);
    }

    /// @notice The Merkle leaf of a contribution: the same fields the contributor signed.
    function contributionLeaf(uint256 dataNetId, address contributor, bytes32 contentHash, bytes32 licenseId)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(dataNetId, contributor, contentHash, licenseId))));
    }

    // -------------------------------------------------------------------------------------------------- bonds

    /// @notice Adds `amount` OPEN to the caller's bond for the DataNet (needs an allowance). Cancels a pending
    /// withdrawal request (BondWithdrawalCancelled): a contributor who bonds again means to keep contributing.
    function depositBond(uint256 dataNetId, uint256 amount) external nonReentrant {
        _dataNet(dataNetId);
        if (amount == 0) revert ZeroAmount();
        uint256 bondAfter = _bonds[dataNetId][msg.sender] + amount;
        _bonds[dataNetId][msg.sender] = bondAfter;
        _cancelWithdrawal(dataNetId, msg.sender);
        emit BondDeposited(dataNetId, msg.sender, amount, bondAfter);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts the withdrawal delay of the caller's bond; it stays forfeitable until withdrawn. A repeated
    /// request restarts the delay. Every withdrawal needs its own request (see withdrawBond).
    function requestBondWithdrawal(uint256 dataNetId) external {
        _dataNet(dataNetId);
        if (_bonds[dataNetId][msg.sender] == 0) revert NoBond(dataNetId, msg.sender);
        uint256 unlockAt = block.timestamp + BOND_WITHDRAWAL_DELAY;
        _bondWithdrawableAt[dataNetId][msg.sender] = unlockAt;
        emit BondWithdrawalRequested(dataNetId, msg.sender, unlockAt);
    }

    /// @notice Withdraws `amount` of the caller's bond after the withdrawal delay, consuming the request: the
    /// delay applies to every withdrawal, so a later withdrawal (of the rest, say) needs a new request and a new
    /// delay, during which contributions under review can still forfeit the bond. A deposit or a forfeit after the
    /// request cancels it (see depositBond, forfeitBond).
    function withdrawBond(uint256 dataNetId, uint256 amount) external nonReentrant {
        _dataNet(dataNetId);
        if (amount == 0) revert ZeroAmount();
        uint256 unlockAt = _bondWithdrawableAt[dataNetId][msg.sender];
        if (unlockAt == 0 || block.timestamp < unlockAt) revert BondLocked(dataNetId, msg.sender, unlockAt);
        uint256 bond = _bonds[dataNetId][msg.sender];
        if (amount > bond) revert InsufficientBond(amount, bond);
        _bonds[dataNetId][msg.sender] = bond - amount;
        _bondWithdrawableAt[dataNetId][msg.sender] = 0;
        emit BondWithdrawn(dataNetId, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Forfeits the set part of `contributor`'s bond (or what is left of it) to the DataNet's treasury,
    /// for its contribution of `contentHash`, rejected as spam or adversarial (owner or curator only).
    /// @dev The curator hands in the contributor's own EIP-712 Contribution signature (the one ingest verified,
    /// over dataNetId, contentHash, the DataNet's licenseId, nonce and deadline, in this registry's domain on this
    /// chain), so a forfeit always points at a contribution the contributor really made; whether it was spam is
    /// the curator's judgment. Each (DataNet, contributor, contentHash) forfeits at most once, so a contributor
    /// loses at most forfeitBps × bondAmount per distinct signed contribution. The deadline is not checked: it
    /// bounds when the contribution could be submitted, and review comes after. A forfeit cancels a pending
    /// withdrawal request (BondWithdrawalCancelled), so a contributor caught spamming waits the full delay again
    /// while its other contributions are reviewed.
    /// @param nonce The nonce the contributor signed with the contribution.
    /// @param deadline The deadline the contributor signed with the contribution.
    /// @param signature The contributor's 65-byte signature (v = 27/28, or 0/1).
    /// @param reasonHash keccak256 of the curator's reason, as in its signed review.
    /// @return amount OPEN forfeited.
    function forfeitBond(
        uint256 dataNetId,
        address contributor,
        bytes32 contentHash,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature,
        bytes32 reasonHash
    ) external onlyCuratorOf(dataNetId) nonReentrant returns (uint256 amount) {
        DataNet storage d = _dataNets[dataNetId];
        if (!_signedContribution(dataNetId, contributor, contentHash, d.licenseId, nonce, deadline, signature)) {
            revert InvalidContributionSignature(dataNetId, contributor, contentHash);
        }
        if (_forfeited[dataNetId][contributor][contentHash]) {
            revert AlreadyForfeited(dataNetId, contributor, contentHash);
        }
        uint256 bond = _bonds[dataNetId][contributor];
        if (bond == 0) revert NoBond(dataNetId, contributor);
        uint256 due = (d.bondAmount * d.forfeitBps) / MAX_BPS;
        amount = due < bond ? due : bond;
        if (amount == 0) revert ZeroAmount();
        _forfeited[dataNetId][contributor][contentHash] = true;
        _bonds[dataNetId][contributor] = bond - amount;
        _cancelWithdrawal(dataNetId, contributor);
        emit BondForfeited(dataNetId, contributor, contentHash, amount, reasonHash, msg.sender);
        token.safeTransfer(d.treasury, amount);
    }

    /// @notice The EIP-712 digest a contributor signs for a contribution (domain: this registry on this chain).
    function hashContribution(uint256 dataNetId, bytes32 contentHash, bytes32 licenseId, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CONTRIBUTION_TYPEHASH, dataNetId, contentHash, licenseId, nonce, deadline)));
    }

    // -------------------------------------------------------------------------------------------------- views

    /// @notice The DataNet's settings; reverts for an unknown id.
    function getDataNet(uint256 dataNetId) external view returns (DataNet memory) {
        return _dataNet(dataNetId);
    }

    /// @notice A committed version; reverts if it does not exist.
    function getVersion(uint256 dataNetId, uint64 version) public view returns (Version memory) {
        DataNet storage d = _dataNet(dataNetId);
        if (version == 0 || version > d.versionCount) revert UnknownVersion(dataNetId, version);
        return _versions[dataNetId][version];
    }

    /// @notice Whether `account` is the owner or a curator of the DataNet.
    function isCurator(uint256 dataNetId, address account) public view returns (bool) {
        return _dataNet(dataNetId).owner == account || _curators[dataNetId][account];
    }

    /// @notice `contributor`'s bond for the DataNet.
    function bondOf(uint256 dataNetId, address contributor) external view returns (uint256) {
        return _bonds[dataNetId][contributor];
    }

    /// @notice When `contributor` can withdraw its bond (0 = no withdrawal requested).
    function bondWithdrawableAt(uint256 dataNetId, address contributor) external view returns (uint256) {
        return _bondWithdrawableAt[dataNetId][contributor];
    }

    /// @notice Whether `contributor`'s contribution of `contentHash` to the DataNet has forfeited its bond part.
    function isForfeited(uint256 dataNetId, address contributor, bytes32 contentHash) external view returns (bool) {
        return _forfeited[dataNetId][contributor][contentHash];
    }

    /// @dev Drops a pending withdrawal request, if any, and says so.
    function _cancelWithdrawal(uint256 dataNetId, address contributor) private {
        uint256 unlockAt = _bondWithdrawableAt[dataNetId][contributor];
        if (unlockAt == 0) return;
        _bondWithdrawableAt[dataNetId][contributor] = 0;
        emit BondWithdrawalCancelled(dataNetId, contributor, unlockAt);
    }

    /// @dev Whether `signature` is `contributor`'s signature of the contribution.
    function _signedContribution(
        uint256 dataNetId,
        address contributor,
        bytes32 contentHash,
        bytes32 licenseId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private view returns (bool) {
        if (contributor == address(0)) return false;
        return _recover(hashContribution(dataNetId, contentHash, licenseId, nonce, deadline), signature) == contributor;
    }

    /// @dev The signer of `digest`, or the zero address for a malformed or malleable (high-s) signature. Accepts
    /// v as 27/28 or 0/1, like the TypeScript verifier (src/core/secp256k1.ts), so that every contribution ingest
    /// accepted can be forfeited.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        return err == ECDSA.RecoverError.NoError ? signer : address(0);
    }

    function _dataNet(uint256 dataNetId) private view returns (DataNet storage d) {
        d = _dataNets[dataNetId];
        if (d.owner == address(0)) revert UnknownDataNet(dataNetId);
    }
}
