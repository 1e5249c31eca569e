import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import fc from 'fast-check';
import { getAddress, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { merkleTree, standardLeaf, verifyMerkleProof } from './merkle.js';

const types = ['uint256', 'address', 'bytes32'];
const row = fc.tuple(
  fc.bigInt({ min: 0n, max: 2n ** 64n }),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(`0x${Buffer.from(b).toString('hex')}`)),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex),
);

describe('OpenZeppelin-compatible Merkle tree', () => {
  it('has the same root and leaves as StandardMerkleTree, and its proofs verify', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(row, { minLength: 1, maxLength: 40, selector: (r) => `${r[0]}${r[1]}${r[2]}` }),
        (rows) => {
          const standard = StandardMerkleTree.of(rows, types);
          const leaves = rows.map((r) => standardLeaf(types, r));
          const tree = merkleTree(leaves);
          expect(tree.root).toBe(standard.root);
          for (const [i, r] of rows.entries()) {
            expect(leaves[i]).toBe(standard.leafHash(r));
            const proof = tree.proof(leaves[i] as Hex);
            expect(proof).toEqual(standard.getProof(i));
            expect(verifyMerkleProof(tree.root, leaves[i] as Hex, proof)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses a proof for another leaf and an empty tree', () => {
    const leaves = [1n, 2n, 3n].map((n) => standardLeaf(['uint256'], [n]));
    const tree = merkleTree(leaves);
    expect(verifyMerkleProof(tree.root, leaves[0] as Hex, tree.proof(leaves[1] as Hex))).toBe(false);
    expect(() => tree.proof(standardLeaf(['uint256'], [4n]))).toThrow(/is not in the tree/);
    expect(() => merkleTree([])).toThrow('A Merkle tree needs at least one leaf');
  });
});
