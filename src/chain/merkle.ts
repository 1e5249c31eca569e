/**
 * Merkle trees in OpenZeppelin's layout, so that MerkleProof.verify on chain accepts our proofs: leaves are
 * keccak256(keccak256(abi.encode(values))) ("standard" leaves, immune to second-preimage tricks), sorted, and
 * each parent hashes its two children in sorted order. Built with @openzeppelin/merkle-tree.
 */
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { type AbiParameter, encodeAbiParameters, type Hex, isHex, keccak256 } from 'viem';
import { BaseError } from '../core/index.js';

/** The standard leaf of `values` encoded as `types` (e.g. ['uint256', 'address']). */
export function standardLeaf(types: readonly string[], values: readonly unknown[]): Hex {
  const params: AbiParameter[] = types.map((type) => ({ type }));
  return keccak256(keccak256(encodeAbiParameters(params, values)));
}

export interface MerkleTree {
  root: Hex;
  /** Leaves in tree order (sorted). */
  leaves: readonly Hex[];
  /** Proof that `leaf` is in the tree; throws if it is not. */
  proof(leaf: Hex): Hex[];
}

/** A tree over already-hashed leaves (see standardLeaf). */
export function merkleTree(leaves: readonly Hex[]): MerkleTree {
  if (leaves.length === 0) throw new RangeError('A Merkle tree needs at least one leaf');
  const tree = SimpleMerkleTree.of([...leaves], { sortLeaves: true });
  const index = new Map<string, number>();
  // The tree numbers its values in the order they were given (its own order is sorted by hash).
  for (const [i, leaf] of leaves.entries()) index.set(leaf.toLowerCase(), i);
  return {
    root: hexOf(tree.root),
    leaves: leaves.map(lowerHex).sort(),
    proof(leaf) {
      const i = index.get(leaf.toLowerCase());
      if (i === undefined) throw new RangeError(`Leaf ${leaf} is not in the tree`);
      return tree.getProof(i).map(hexOf);
    },
  };
}

const lowerHex = (h: Hex): Hex => `0x${h.slice(2).toLowerCase()}`;

/** A hash from the tree library (a 0x-prefixed hex string), typed as such. */
function hexOf(s: string): Hex {
  if (!isHex(s))
    throw new BaseError('INTERNAL', `The Merkle tree returned ${s}, which is not a 0x-prefixed hex string`);
  return s;
}

export function verifyMerkleProof(root: Hex, leaf: Hex, proof: readonly Hex[]): boolean {
  return SimpleMerkleTree.verify(root, leaf, [...proof]);
}
