import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { cidOf } from '../core/index.js';
import { createFsBlobStore } from './blobs.js';

describe('disk blob store', () => {
  it('stores by CID, idempotently, and deletes', async () => {
    const blobs = createFsBlobStore(mkdtempSync(join(tmpdir(), 'blobs-')));
    const cid = await blobs.put('hello');
    expect(cid).toBe(cidOf('hello'));
    expect(await blobs.put(new TextEncoder().encode('hello'))).toBe(cid);
    expect(new TextDecoder().decode(await blobs.get(cid))).toBe('hello');
    expect(await blobs.has(cid)).toBe(true);
    expect(await blobs.delete(cid)).toBe(true);
    expect(await blobs.get(cid)).toBeUndefined();
    expect(await blobs.delete(cid)).toBe(false);
  });

  it('detects a corrupted blob instead of serving it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
    const blobs = createFsBlobStore(dir);
    const cid = await blobs.put('original');
    const shard = join(dir, cid.slice(7, 9), cid.slice(9, 11));
    writeFileSync(join(shard, readdirSync(shard)[0] as string), 'tampered');
    const e = await rejectionOf(blobs.get(cid));
    expect(e.message).toBe(`Blob ${cid} is corrupted on disk (its content no longer matches its id)`);
  });

  it('refuses strings that are not CIDs', async () => {
    const blobs = createFsBlobStore(mkdtempSync(join(tmpdir(), 'blobs-')));
    expect((await rejectionOf(blobs.get('../../etc/passwd'))).message).toBe(
      'Not a CIDv1 (base32) content id: "../../etc/passwd"',
    );
  });
});
