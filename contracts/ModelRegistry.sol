// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @notice The part of DataNetRegistry the model registry reads.
interface IDataNetVersions {
    /// @notice A committed DataNet version.
    struct Version {
        bytes32 root;
        uint64 count;
        uint64 committedAt;
        string manifestCID;
    }

    /// @notice Reverts for an unknown DataNet or version.
    function getVersion(uint256 dataNetId, uint64 version) external view returns (Version memory);
}

/// @title Model registry: specialized models with verifiable lineage and per-token prices
/// @notice A model is a LoRA adapter (or a base model) served by OpenLoRA. Each version records its lineage —
/// base model hash, adapter hash, the exact DataNet version it was trained on (id, number and Merkle root, checked
/// against the DataNet registry), training config hash and the content id of its training receipt — so that
/// attribution and payments can trust what a model was made from. Prices are OPEN wei per 1,000 tokens, input
/// and output (R_in, R_out), set by the owner.
/// @dev Against squatting: names are lowercase ASCII only ([a-z0-9._-], starting with a letter or digit), so two
/// names that differ by case or by a look-alike character cannot both exist; and an adapter hash belongs to the
/// first model that published it, so nobody can register someone else's adapter to collect its owner's share.
contract ModelRegistry {
    /// @notice A model's current state.
    struct Model {
        address owner;
        bool active;
        uint64 versionCount;
        uint128 priceInPer1k;
        uint128 priceOutPer1k;
        bytes32 baseModelHash;
        string name;
    }

    /// @notice A new version's lineage, as given by the owner.
    struct VersionInput {
        bytes32 adapterHash;
        uint256 dataNetId;
        uint64 dataNetVersion;
        bytes32 dataNetRoot;
        bytes32 configHash;
        string receiptCID;
    }

    /// @notice What a version is made of.
    struct ModelVersion {
        bytes32 adapterHash;
        uint256 dataNetId;
        uint64 dataNetVersion;
        uint64 publishedAt;
        bytes32 dataNetRoot;
        bytes32 configHash;
        string receiptCID;
    }

    /// @notice The DataNet registry lineage is checked against.
    IDataNetVersions public immutable dataNets;
    /// @notice Number of models; ids run from 1 to modelCount.
    uint256 public modelCount;

    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => mapping(uint64 version => ModelVersion)) private _versions;
    mapping(bytes32 nameHash => uint256 modelId) private _byName;
    mapping(bytes32 adapterHash => uint256 modelId) private _byAdapter;

    /// @notice No model has this id.
    error UnknownModel(uint256 modelId);
    /// @notice No model has this name.
    error UnknownModelName(string name);
    /// @notice The model has no such version.
    error UnknownModelVersion(uint256 modelId, uint64 version);
    /// @notice Only the model's owner may do this.
    error NotModelOwner(uint256 modelId, address caller);
    /// @notice Model names are unique.
    error NameTaken(string name, uint256 modelId);
    /// @notice Names must be 1 to 64 characters of lowercase ASCII letters, digits, '.', '_' and '-', starting with
    /// a letter or digit (no uppercase, spaces or non-ASCII, so that no name can imitate another).
    error InvalidName(string name);
    /// @notice The adapter was already published by model `modelId`; only that model may publish it again.
    error AdapterTaken(bytes32 adapterHash, uint256 modelId);
    /// @notice The DataNet version's root on chain is not the one claimed.
    error LineageMismatch(uint256 dataNetId, uint64 dataNetVersion, bytes32 onChainRoot, bytes32 claimedRoot);
    /// @notice A model trained without a DataNet cannot claim a DataNet version or root.
    error InconsistentLineage();
    /// @notice The model is deactivated.
    error ModelInactive(uint256 modelId);
    /// @notice The model is already in the requested state.
    error ActiveUnchanged(uint256 modelId, bool active);
    /// @notice The zero address was given where an account is required.
    error ZeroAddress();

    /// @notice A model was registered with its first version.
    event ModelRegistered(uint256 indexed modelId, address indexed owner, string name, bytes32 baseModelHash, uint128 priceInPer1k, uint128 priceOutPer1k);
    /// @notice Version `version` of a model was published.
    event ModelVersionPublished(
        uint256 indexed modelId,
        uint64 indexed version,
        bytes32 adapterHash,
        uint256 indexed dataNetId,
        uint64 dataNetVersion,
        bytes32 dataNetRoot,
        bytes32 configHash,
        string receiptCID
    );
    /// @notice `modelId` is the first model to publish `adapterHash`, which from now on belongs to it alone.
    event AdapterClaimed(bytes32 indexed adapterHash, uint256 indexed modelId);
    /// @notice The owner changed the prices.
    event PricesUpdated(uint256 indexed modelId, uint128 priceInPer1k, uint128 priceOutPer1k);
    /// @notice The model was reactivated (true) or deactivated (false).
    event ActiveChanged(uint256 indexed modelId, bool active);
    /// @notice Ownership moved to `newOwner`.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);

    /// @param dataNets_ The DataNet registry.
    constructor(IDataNetVersions dataNets_) {
        if (address(dataNets_) == address(0)) revert ZeroAddress();
        dataNets = dataNets_;
    }

    modifier onlyModelOwner(uint256 modelId) {
        if (_model(modelId).owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        _;
    }

    /// @notice Registers a model owned by the caller, with its first version and prices.
    /// @param name Unique name that clients use to call the model: 1-64 characters of [a-z0-9._-], starting with a
    /// letter or digit.
    /// @param baseModelHash sha-256 of the base model file the adapter applies to.
    /// @param v The first version's lineage (dataNetId 0 = not trained on a DataNet).
    /// @return modelId The new model's id.
    function registerModel(
        string calldata name,
        bytes32 baseModelHash,
        VersionInput calldata v,
        uint128 priceInPer1k,
        uint128 priceOutPer1k
    ) external returns (uint256 modelId) {
        if (!isValidName(name)) revert InvalidName(name);
        bytes32 nameHash = keccak256(bytes(name));
        uint256 taken = _byName[nameHash];
        if (taken != 0) revert NameTaken(name, taken);
        modelId = ++modelCount;
        _byName[nameHash] = modelId;
        _models[modelId] = Model({
            owner: msg.sender,
            active: true,
            versionCount: 0,
            priceInPer1k: priceInPer1k,
            priceOutPer1k: priceOutPer1k,
            baseModelHash: baseModelHash,
            name: name
        });
        emit ModelRegistered(modelId, msg.sender, name, baseModelHash, priceInPer1k, priceOutPer1k);
        _publish(modelId, v);
    }

    /// @notice Publishes the next version of an active model (owner only).
    /// @return version The new version number.
    function publishVersion(uint256 modelId, VersionInput calldata v) external onlyModelOwner(modelId) returns (uint64 version) {
        if (!_models[modelId].active) revert ModelInactive(modelId);
        return _publish(modelId, v);
    }

    /// @notice Sets the prices, in OPEN wei per 1,000 input and output tokens (owner only).
    function setPrices(uint256 modelId, uint128 priceInPer1k, uint128 priceOutPer1k) external onlyModelOwner(modelId) {
        Model storage m = _models[modelId];
        m.priceInPer1k = priceInPer1k;
        m.priceOutPer1k = priceOutPer1k;
        emit PricesUpdated(modelId, priceInPer1k, priceOutPer1k);
    }

    /// @notice Stops (false) or resumes (true) serving of the model (owner only).
    function setActive(uint256 modelId, bool active) external onlyModelOwner(modelId) {
        Model storage m = _models[modelId];
        if (m.active == active) revert ActiveUnchanged(modelId, active);
        m.active = active;
        emit ActiveChanged(modelId, active);
    }

    /// @notice Hands the model to `newOwner` (owner only).
    function transferModelOwnership(uint256 modelId, address newOwner) external onlyModelOwner(modelId) {
        if (newOwner == address(0)) revert ZeroAddress();
        emit ModelOwnershipTransferred(modelId, msg.sender, newOwner);
        _models[modelId].owner = newOwner;
    }

    /// @notice A model; reverts for an unknown id.
    function getModel(uint256 modelId) external view returns (Model memory) {
        return _model(modelId);
    }

    /// @notice A version of a model; reverts if it does not exist.
    function getVersion(uint256 modelId, uint64 version) public view returns (ModelVersion memory) {
        if (version > _model(modelId).versionCount || version == 0) revert UnknownModelVersion(modelId, version);
        return _versions[modelId][version];
    }

    /// @notice The newest version of a model.
    function latestVersion(uint256 modelId) external view returns (uint64 version, ModelVersion memory data) {
        version = _model(modelId).versionCount;
        data = _versions[modelId][version];
    }

    /// @notice The model that first published `adapterHash` (0 = none; the zero hash, a base model without an
    /// adapter, is never claimed).
    function modelIdByAdapter(bytes32 adapterHash) external view returns (uint256) {
        return _byAdapter[adapterHash];
    }

    /// @notice Whether `name` is a well-formed model name: 1-64 characters of lowercase ASCII letters, digits,
    /// '.', '_' and '-', the first a letter or digit.
    function isValidName(string calldata name) public pure returns (bool) {
        bytes calldata b = bytes(name);
        if (b.length == 0 || b.length > 64) return false;
        for (uint256 i = 0; i < b.length; ++i) {
            bytes1 ch = b[i];
            bool alnum = (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39); // a-z, 0-9
            if (alnum) continue;
            if (i == 0 || (ch != 0x2d && ch != 0x2e && ch != 0x5f)) return false; // '-', '.', '_'
        }
        return true;
    }

    /// @notice The id of the model called `name`; reverts if there is none.
    function modelIdByName(string calldata name) external view returns (uint256 modelId) {
        modelId = _byName[keccak256(bytes(name))];
        if (modelId == 0) revert UnknownModelName(name);
    }

    function _publish(uint256 modelId, VersionInput calldata v) private returns (uint64 version) {
        if (v.dataNetId == 0) {
            if (v.dataNetVersion != 0 || v.dataNetRoot != bytes32(0)) revert InconsistentLineage();
        } else {
            bytes32 onChain = dataNets.getVersion(v.dataNetId, v.dataNetVersion).root;
            if (onChain != v.dataNetRoot) revert LineageMismatch(v.dataNetId, v.dataNetVersion, onChain, v.dataNetRoot);
        }
        if (v.adapterHash != bytes32(0)) {
            uint256 holder = _byAdapter[v.adapterHash];
            if (holder == 0) {
                _byAdapter[v.adapterHash] = modelId;
                emit AdapterClaimed(v.adapterHash, modelId);
            } else if (holder != modelId) {
                revert AdapterTaken(v.adapterHash, holder);
            }
        }
        Model storage m = _models[modelId];
        version = ++m.versionCount;
        ModelVersion storage stored = _versions[modelId][version];
        stored.adapterHash = v.adapterHash;
        stored.dataNetId = v.dataNetId;
        stored.dataNetVersion = v.dataNetVersion;
        stored.publishedAt = uint64(block.timestamp);
        stored.dataNetRoot = v.dataNetRoot;
        stored.configHash = v.configHash;
        stored.receiptCID = v.receiptCID;
        emit ModelVersionPublished(modelId, version, v.adapterHash, v.dataNetId, v.dataNetVersion, v.dataNetRoot, v.configHash, v.receiptCID);
    }

    function _model(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (m.owner == address(0)) revert UnknownModel(modelId);
    }
}
