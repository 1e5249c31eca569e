/**
 * Merkle trees in OpenZeppelin's layout, so that MerkleProof.verify on chain accepts our proofs: leaves are
 * keccak256(keccak256(abi.encode(values))) ("standard" leaves, immune to second-preimage tricks), sorted, and
 * each parent hashes its two children in sorted order. Built with @openzeppelin/merkle-tree.
 */
import { SimpleMerkleTree } from '@openzeppelin/merkle-tree';
import { type AbiParameter, encodeAbiParameters, type Hex, keccak256 } from 'viem';

/** The standard leaf of `values` encoded as `types` (e.g. ['uint256', 'address']). */
export function standardLeaf(types: readonly string[], values: readonly unknown[]): Hex {
  const params = types.map((type) => ({ type })) as AbiParameter[];
  return keccak256(keccak256(encodeAbiParameters(params, values as unknown[])));
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
  for (const [i, leaf] of tree.entries()) index.set((leaf as string).toLowerCase(), i);
  return {
    root: tree.root as Hex,
    leaves: leaves.map((l) => l.toLowerCase() as Hex).sort(),
    proof(leaf) {
      const i = index.get(leaf.toLowerCase());
      if (i === undefined) throw new RangeError(`Leaf ${leaf} is not in the tree`);
      return tree.getProof(i) as Hex[];
    },
  };
}

export function verifyMerkleProof(root: Hex, leaf: Hex, proof: readonly Hex[]): boolean {
  return SimpleMerkleTree.verify(root, leaf, [...proof]);
}
