/**
 * Checking a version export against the version committed on chain, from the export alone: every line's id is the
 * Merkle leaf of its own data (`contributionLeaf(dataNetId, contributor, contentHash, licenseId)`, as the registry
 * computes it), a live row's content hashes to its content hash and its text is that content's text, and the ids in
 * leaf order make the committed root. An auditor who checked this reads the node's export as the version itself,
 * withdrawn rows included (their text is gone, their leaves are not).
 */
import type { Hex } from 'viem';
import { merkleTree } from '../chain/index.js';
import { BaseError, hashObject } from '../core/index.js';
import type { VersionExportLine, VersionExportRow } from '../protocol/index.js';
import { contributionId } from './ingest-stages.js';
import { textOf } from './normalize.js';

export interface CommittedVersion {
  dataNetId: bigint;
  version: number;
  /** The root and row count DataNetRegistry.getVersion returns. */
  root: Hex;
  count: bigint | number;
}

export interface PinnedExportCheck {
  root: Hex;
  rows: number;
  live: number;
  withdrawn: number;
}

/** Refuses (CONFLICT, naming the line) an export that is not the committed version; else what it holds. */
export function checkPinnedExport(lines: readonly VersionExportLine[], v: CommittedVersion): PinnedExportCheck {
  const name = `The export of DataNet ${v.dataNetId} version ${v.version}`;
  const refuse = (message: string, details: Record<string, unknown>) =>
    new BaseError('CONFLICT', `${name} ${message}`, {
      details: { dataNetId: v.dataNetId.toString(), version: v.version, ...details },
    });
  for (const [i, r] of lines.entries()) {
    const row = i + 1;
    if (contributionId(v.dataNetId, r.contributor, r.contentHash, r.licenseId) !== r.id.toLowerCase())
      throw refuse(`has row ${row} (${r.id}) that is not the leaf of its contributor, content hash and license`, {
        row,
        contributionId: r.id,
      });
    if (r.withdrawn) continue;
    if (hashObject(r.content) !== r.contentHash.toLowerCase())
      throw refuse(`has row ${row} (${r.id}) whose content does not hash to its content hash`, {
        row,
        contributionId: r.id,
      });
    if (textOf(r.content) !== r.text)
      throw refuse(`has row ${row} (${r.id}) whose text is not its content's text`, { row, contributionId: r.id });
  }
  const ids = lines.map((r) => r.id.toLowerCase());
  const inLeafOrder = ids.every((id, i) => i === 0 || (ids[i - 1] ?? '') < id);
  if (!inLeafOrder) throw refuse('is not in leaf order (sorted by id)', {});
  if (BigInt(lines.length) !== BigInt(v.count))
    throw refuse(`has ${lines.length} rows; the version committed on chain has ${v.count}`, {
      rows: lines.length,
      count: v.count.toString(),
    });
  const root = lines.length === 0 ? null : merkleTree(lines.map((r) => r.id)).root;
  if (root?.toLowerCase() !== v.root.toLowerCase())
    throw refuse(`makes the Merkle root ${root}; the root committed on chain is ${v.root}`, {
      root,
      committed: v.root,
    });
  const withdrawn = lines.filter((r) => r.withdrawn).length;
  return { root: v.root, rows: lines.length, live: lines.length - withdrawn, withdrawn };
}

/**
 * The texts of withdrawn rows from a copy of the export kept from before their withdrawal, each checked against the
 * content hash its leaf commits to (a kept copy is nobody's word): by id. Rows of the copy that were not withdrawn
 * are ignored (the export has them); a kept row whose content or text is not the committed one is refused.
 */
export function withdrawnTextsFrom(
  lines: readonly VersionExportLine[],
  kept: readonly Pick<VersionExportRow, 'id' | 'content' | 'text'>[],
): Map<string, string> {
  const keptById = new Map(kept.map((r) => [r.id.toLowerCase(), r]));
  const texts = new Map<string, string>();
  for (const line of lines) {
    const copy = line.withdrawn ? keptById.get(line.id.toLowerCase()) : undefined;
    if (!copy) continue;
    if (hashObject(copy.content) !== line.contentHash.toLowerCase() || textOf(copy.content) !== copy.text)
      throw new BaseError(
        'CONFLICT',
        `The kept export's row ${line.id} is not the content its leaf commits to (content hash ${line.contentHash})`,
        { details: { field: '--kept-export', contributionId: line.id } },
      );
    texts.set(line.id, copy.text);
  }
  return texts;
}
