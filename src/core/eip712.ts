/**
 * EIP-712 typed-data definitions, in one place. Every signature Tributary asks for is bound to a chain id and a
 * verifying contract (the domain) and to the object it speaks of, with a nonce, deadline or cumulative amount,
 * so it can be used once, on one chain, for one thing.
 */

/** ERC-2612 permit (OPEN approvals by signature); domain: name "Open", version "1". */
export const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** The OPEN token's EIP-712 domain name and version (set in its ERC20Permit constructor). */
export const openTokenDomain = { name: 'Open', version: '1' } as const;

/** Domain name and version of every DataNet signature; chainId and the registry address complete it. */
export const dataNetDomain = { name: 'Tributary DataNetRegistry', version: '1' } as const;

/**
 * DataNet messages. A contribution's signed fields are those of its Merkle leaf (dataNetId, contributor = the
 * signer, contentHash, licenseId), plus a single-use nonce and a deadline.
 */
export const dataNetTypes = {
  Contribution: [
    { name: 'dataNetId', type: 'uint256' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'licenseId', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  Review: [
    { name: 'dataNetId', type: 'uint256' },
    { name: 'contributionId', type: 'bytes32' },
    { name: 'approve', type: 'bool' },
    { name: 'spam', type: 'bool' },
    { name: 'reasonHash', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
  Withdrawal: [
    { name: 'dataNetId', type: 'uint256' },
    { name: 'contributionId', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;
