/**
 * A DataNet version's manifest: the content-addressed description of a version (its CID is committed on chain
 * with the root), enough for anyone to recompute the root and check every contributor's consent. Written once as
 * canonical JSON of exactly these fields; read back here.
 */
import { z } from 'zod';
import { address, bytes32, cid, decimal, hex } from '../primitives.js';
import { parseJsonArtifact } from './parse.js';

export const manifestEntry = z.object({
  /** The Merkle leaf. */
  id: bytes32,
  contributor: address,
  contentHash: bytes32,
  cid,
  nonce: decimal,
  deadline: decimal,
  /** The contributor's EIP-712 signature over the contribution. */
  signature: hex,
});
export type ManifestEntry = z.output<typeof manifestEntry>;

export const versionManifest = z.object({
  kind: z.literal('tributary.datanet.version'),
  chainId: z.number().int(),
  registry: address,
  dataNetId: decimal,
  version: z.number().int().min(1),
  licenseId: bytes32,
  schemaHash: bytes32,
  root: bytes32,
  count: z.number().int().nonnegative(),
  /** Leaves in tree order; each with the contributor's signature over its content hash. */
  contributions: z.array(manifestEntry),
  previous: z.object({ version: z.number().int(), root: bytes32 }).nullable(),
  /** Contributions of the previous version that this one no longer contains because their contributors withdrew them. */
  withdrawnSincePrevious: z.array(bytes32),
});
export type Manifest = z.output<typeof versionManifest>;

/** Reads a manifest; `source` names it in errors. */
export function parseManifest(text: string, source: string): Manifest {
  return parseJsonArtifact(versionManifest, text, source);
}
