/**
 * Signing and checking DataNet messages (EIP-712, domain = chain id + registry address). A signature made for
 * one DataNet, registry or chain fails on any other, and each nonce is accepted once (the store keeps them).
 */
import { randomBytes } from 'node:crypto';
import { type Address, getAddress, type Hex, hashTypedData, isAddressEqual, isHex, type LocalAccount } from 'viem';
import { BaseError, dataNetDomain, dataNetTypes, keccak256, messageOf, recoverSigner } from '../core/index.js';

export interface DataNetDomain {
  chainId: number;
  registry: Address;
}

export interface ContributionMessage {
  dataNetId: bigint;
  contentHash: Hex;
  licenseId: Hex;
  nonce: bigint;
  deadline: bigint;
}

export interface ReviewMessage {
  dataNetId: bigint;
  contributionId: Hex;
  approve: boolean;
  spam: boolean;
  reasonHash: Hex;
  nonce: bigint;
  deadline: bigint;
}

export interface WithdrawalMessage {
  dataNetId: bigint;
  contributionId: Hex;
  nonce: bigint;
  deadline: bigint;
}

/** A DataNet message with its EIP-712 primary type (`kind`): the pairs viem checks field by field. */
export type DataNetMessage =
  | [kind: 'Contribution', message: ContributionMessage]
  | [kind: 'Review', message: ReviewMessage]
  | [kind: 'Withdrawal', message: WithdrawalMessage];

/** The typed data of a message: each kind with its own message type, so viem infers and checks the fields. */
function typedData(domain: DataNetDomain, ...[kind, message]: DataNetMessage) {
  const base = {
    domain: { ...dataNetDomain, chainId: domain.chainId, verifyingContract: domain.registry },
    types: dataNetTypes,
  } as const;
  switch (kind) {
    case 'Contribution':
      return { ...base, primaryType: kind, message };
    case 'Review':
      return { ...base, primaryType: kind, message };
    case 'Withdrawal':
      return { ...base, primaryType: kind, message };
  }
}

/** A random 256-bit nonce: signers need no counter, and can sign in parallel. */
export function newNonce(): bigint {
  return BigInt(`0x${randomBytes(32).toString('hex')}`);
}

export function reasonHashOf(reason: string): Hex {
  return keccak256(reason);
}

export function signDataNetMessage(
  signer: LocalAccount,
  domain: DataNetDomain,
  ...signed: DataNetMessage
): Promise<Hex> {
  return signer.signTypedData(typedData(domain, ...signed));
}

/**
 * Checks that `signature` is `expectedSigner`'s signature of the message and that its deadline has not passed;
 * UNAUTHORIZED otherwise, with a message that says which.
 */
export async function verifyDataNetMessage(
  domain: DataNetDomain,
  signed: DataNetMessage,
  signature: string,
  expectedSigner: Address,
  nowSeconds: bigint,
): Promise<void> {
  const [kind, message] = signed;
  if (message.deadline < nowSeconds) {
    throw new BaseError('UNAUTHORIZED', `${kind} signature expired at ${message.deadline} (now ${nowSeconds})`, {
      details: { field: 'deadline', deadline: message.deadline.toString() },
    });
  }
  let digest: Hex;
  try {
    digest = hashTypedData(typedData(domain, ...signed));
  } catch (e) {
    throw new BaseError('INVALID_ARGUMENT', `${kind} message is malformed: ${messageOf(e)}`, {
      details: { field: 'message' },
    });
  }
  const signer = isHex(signature) ? recoverSigner(digest, signature) : undefined;
  if (!signer)
    throw new BaseError('UNAUTHORIZED', `${kind} signature is malformed`, { details: { field: 'signature' } });
  if (!isAddressEqual(signer, expectedSigner)) {
    throw new BaseError(
      'UNAUTHORIZED',
      `${kind} signature is not ${getAddress(expectedSigner)}'s for this message, DataNet, registry and chain (it recovers to ${signer})`,
      { details: { field: 'signature', expected: getAddress(expectedSigner), recovered: signer } },
    );
  }
}
