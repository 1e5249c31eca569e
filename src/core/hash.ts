/**
 * Hashes and content ids. keccak256 for anything a contract checks; sha-256 CIDs (CIDv1, raw codec, base32 —
 * the form IPFS gateways accept) for content-addressed blobs.
 */
import { createHash } from 'node:crypto';
import { type Hex, toBytes, keccak256 as viemKeccak } from 'viem';
import { canonicalJson } from './json.js';

export type { Hex };

export function keccak256(data: Uint8Array | string): Hex {
  return viemKeccak(typeof data === 'string' ? toBytes(data) : data);
}

export function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** keccak256 of the canonical JSON of `value`: the id of a structured object. */
export function hashObject(value: unknown): Hex {
  return keccak256(canonicalJson(value));
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding (multibase prefix "b"). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

const CID_V1 = 0x01;
const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;

/** CIDv1 (raw codec, sha2-256) of `data`, base32-encoded: `bafkrei…`. */
export function cidOf(data: Uint8Array | string): string {
  return cidFromDigest(sha256(data));
}

/** The CID of the bytes whose sha-256 is `hash` (0x-hex): how an on-chain content hash finds its blob. */
export function cidFromSha256(hash: Hex): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new TypeError(`Not a sha-256 hex digest: ${hash}`);
  return cidFromDigest(Uint8Array.from(Buffer.from(hash.slice(2), 'hex')));
}

function cidFromDigest(digest: Uint8Array): string {
  const bytes = new Uint8Array(4 + digest.length);
  bytes.set([CID_V1, RAW_CODEC, SHA2_256, digest.length]);
  bytes.set(digest, 4);
  return `b${base32(bytes)}`;
}
