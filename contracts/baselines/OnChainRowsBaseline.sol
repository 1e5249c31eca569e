// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title Baseline for benchmarks: every contribution written to chain as its own row
/// @notice Models a registry that stores each row on chain (one transaction per row), the design Tributary's
/// one-root-per-version commit replaces. It stores only the row's hash and contributor, so it is cheaper than
/// storing row text: a conservative baseline. Not part of the protocol; deployed by `npm run bench -- ingest`.
contract OnChainRowsBaseline {
    /// @notice One stored row.
    struct Row {
        address contributor;
        uint64 addedAt;
        bytes32 contentHash;
    }

    mapping(uint256 dataNetId => Row[]) private _rows;

    /// @notice A row was stored.
    event RowAdded(uint256 indexed dataNetId, uint256 indexed index, address indexed contributor, bytes32 contentHash);

    /// @notice Stores one row for `dataNetId`.
    function addRow(uint256 dataNetId, bytes32 contentHash) external {
        _rows[dataNetId].push(Row({contributor: msg.sender, addedAt: uint64(block.timestamp), contentHash: contentHash}));
        emit RowAdded(dataNetId, _rows[dataNetId].length - 1, msg.sender, contentHash);
    }

    /// @notice Number of rows stored for `dataNetId`.
    function rowCount(uint256 dataNetId) external view returns (uint256) {
        return _rows[dataNetId].length;
    }
}
