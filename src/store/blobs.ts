/**
 * Content-addressed blobs: stored under their CID (sha-256, CIDv1 raw), so a blob's name proves its content.
 * The disk store writes atomically (temp file + rename) and re-hashes on read, so a corrupted or truncated file is
 * reported, never served. The interface is what an S3 or IPFS backend would implement.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BaseError, cidOf, errnoCode } from '../core/index.js';

export interface BlobStore {
  /** Stores `bytes` and returns their CID (idempotent). */
  put(bytes: Uint8Array | string): Promise<string>;
  /** The bytes of `cid`, or undefined if absent; INTERNAL if the stored bytes no longer match the CID. */
  get(cid: string): Promise<Uint8Array | undefined>;
  has(cid: string): Promise<boolean>;
  /** Removes `cid`; true if it existed. */
  delete(cid: string): Promise<boolean>;
  /** A local file holding `cid`, for libraries that load from paths (llama.cpp); undefined if not local. */
  localPath?(cid: string): string | undefined;
}

const CID = /^b[a-z2-7]{58}$/;

function checkCid(cid: string): void {
  if (!CID.test(cid))
    throw new BaseError('INVALID_ARGUMENT', `Not a CIDv1 (base32) content id: "${cid}"`, { details: { field: 'cid' } });
}

export function createFsBlobStore(dir: string): BlobStore {
  // Every CID shares the prefix "bafkrei"; shard on the characters after it.
  const pathOf = (cid: string) => join(dir, cid.slice(7, 9), cid.slice(9, 11), cid);
  return {
    async put(bytes) {
      const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      const cid = cidOf(data);
      const path = pathOf(cid);
      try {
        if (statSync(path).size === data.length) return cid;
      } catch {
        // not there yet
      }
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, data);
      renameSync(tmp, path);
      return cid;
    },
    async get(cid) {
      checkCid(cid);
      let data: Buffer;
      try {
        data = readFileSync(pathOf(cid));
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return undefined;
        throw e;
      }
      if (cidOf(data) !== cid) {
        throw new BaseError('INTERNAL', `Blob ${cid} is corrupted on disk (its content no longer matches its id)`, {
          details: { cid, path: pathOf(cid) },
        });
      }
      return new Uint8Array(data);
    },
    async has(cid) {
      checkCid(cid);
      try {
        statSync(pathOf(cid));
        return true;
      } catch {
        return false;
      }
    },
    localPath(cid) {
      checkCid(cid);
      return pathOf(cid);
    },
    async delete(cid) {
      checkCid(cid);
      try {
        statSync(pathOf(cid));
      } catch {
        return false;
      }
      rmSync(pathOf(cid), { force: true });
      return true;
    },
  };
}
