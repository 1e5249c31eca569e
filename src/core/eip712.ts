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

/** InferenceEscrow's EIP-712 domain (chainId and the escrow address complete it). */
export const escrowDomain = { name: 'Tributary InferenceEscrow', version: '1' } as const;

/** A payment voucher: the cumulative amount owed on a channel, bound to its node (checked on chain by the escrow). */
export const voucherTypes = {
  Voucher: [
    { name: 'channelId', type: 'uint256' },
    { name: 'node', type: 'address' },
    { name: 'cumulativeAmount', type: 'uint256' },
  ],
} as const;

/**
 * A paid request, authorized by the channel's user before the node serves it (checked by the node, in the escrow's
 * domain): this channel, this node, this request body (`requestHash`: keccak256 of the canonical JSON of the body),
 * at most `maxFee` wei, and a nonce above every nonce used on the channel before (so it is good for one request).
 */
export const requestAuthorizationTypes = {
  RequestAuthorization: [
    { name: 'channelId', type: 'uint256' },
    { name: 'node', type: 'address' },
    { name: 'requestHash', type: 'bytes32' },
    { name: 'maxFee', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const;

/** Receipts are signed by the serving node in this domain (chainId and the RewardDistributor complete it). */
export const receiptDomain = { name: 'Tributary Receipt', version: '1' } as const;

/** A paid inference, as the node attests it: what was served, what it cost, who shaped the answer. */
export const receiptTypes = {
  Receipt: [
    { name: 'requestHash', type: 'bytes32' },
    { name: 'modelId', type: 'uint256' },
    { name: 'adapterHash', type: 'bytes32' },
    { name: 'dataNetRoot', type: 'bytes32' },
    { name: 'inputTokens', type: 'uint256' },
    { name: 'outputTokens', type: 'uint256' },
    { name: 'fee', type: 'uint256' },
    { name: 'attributionHash', type: 'bytes32' },
    { name: 'outputHash', type: 'bytes32' },
    { name: 'channelId', type: 'uint256' },
    { name: 'chargedAfter', type: 'uint256' },
  ],
} as const;
