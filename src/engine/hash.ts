/** Content hashes of artifacts (models, adapters, checkpoints, tokenizers): sha-256 and its CID, via core. */
import { cidOf, type Hex, sha256 } from '../core/index.js';

export interface ArtifactHash {
  /** 0x-prefixed sha-256 of the bytes. */
  sha256: Hex;
  /** CIDv1 (raw, sha2-256), the blob store's key for the same bytes. */
  cid: string;
  bytes: number;
}

export function artifactHash(bytes: Uint8Array): ArtifactHash {
  return { sha256: `0x${Buffer.from(sha256(bytes)).toString('hex')}`, cid: cidOf(bytes), bytes: bytes.length };
}
