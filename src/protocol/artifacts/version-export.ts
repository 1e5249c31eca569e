/**
 * A DataNet version's export: JSON lines, one per contribution of the version, in leaf order (sorted by id), each
 * with what its Merkle leaf is made of (`contributionLeaf(dataNetId, contributor, contentHash, licenseId)` is its id),
 * so anyone can recompute the version's root from it and compare it with the one committed on chain. A live row
 * also carries its content (whose canonical JSON hashes to `contentHash`) and its text; a row withdrawn after the
 * version was published stays, flagged `withdrawn: true` with its withdrawal time, its content and text removed.
 * ModelFactory trains on the live rows, the node attributes answers against them, and anyone can recompute an
 * attribution from them — so every reader parses the export here.
 *
 * Export version 2 (`exportVersion: 2` on every line). Version 1 listed only live rows, without leaf data: training
 * and attribution still read it (its rows mean the same), but it cannot pin a version, so `parsePinnedExport`
 * refuses it by name.
 *
 * An audit corpus is any JSON lines file of `{id, contributor, text}` (a version's export has these fields): ids and
 * contributors are free-form there, texts non-empty and bounded.
 */
import { z } from 'zod';
import { BaseError } from '../../core/index.js';
import { address, bytes32, cid, isoDate } from '../primitives.js';
import { parseJsonLines } from './parse.js';

/** The export format this release writes. */
export const VERSION_EXPORT_FORMAT = 2;

/** A JSON object, kept as it is (no copy: its keys are the contributor's). */
export const jsonObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected a JSON object',
);

/** What every line carries: the contribution's Merkle leaf and what it is made of. */
const leafFields = {
  exportVersion: z.literal(VERSION_EXPORT_FORMAT),
  /** The contribution id: its Merkle leaf in the version. */
  id: bytes32,
  contributor: address,
  /** keccak-256 of the content's canonical JSON. */
  contentHash: bytes32,
  licenseId: bytes32,
  /**
   * The contribution's place in the order the DataNet accepted its contributions (1 = first). Not part of the leaf:
   * the node that accepted them states it. Attribution reads rows in this order, so an earlier contribution has
   * first-come priority over a later near-identical copy (a copier cannot win by grinding a lower id).
   */
  arrival: z.number().int().positive(),
};

/** A live contribution of the version. */
const liveLine = z.object({
  ...leafFields,
  withdrawn: z.literal(false),
  /** The content's CID in the blob store. */
  cid,
  /** The prepared row as the contributor signed it. */
  content: jsonObject,
  /** Its text (what spans and citations are found in). */
  text: z.string(),
});

/** A contribution withdrawn after the version was published: its leaf stays in the root, its content is gone. */
const withdrawnLine = z.object({
  ...leafFields,
  withdrawn: z.literal(true),
  withdrawnAt: isoDate,
});

/** One line of a version export. */
export const versionExportLine = z.discriminatedUnion('withdrawn', [liveLine, withdrawnLine]);
export type VersionExportLine = z.output<typeof versionExportLine>;

/** A live row as training and attribution read it (the fields version 1 and 2 share). */
export const versionExportRow = z.object({
  id: bytes32,
  contributor: address,
  /** Version 2: the place in the order of acceptance (version 1 exports have none; leaf order stands in). */
  arrival: z.number().int().positive().optional(),
  cid,
  content: jsonObject,
  text: z.string(),
});
export type VersionExportRow = z.output<typeof versionExportRow>;

/** The export version of a file: its first line's `exportVersion` (1 when absent, as version 1 wrote none). */
function exportVersionOf(text: string): number {
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return VERSION_EXPORT_FORMAT;
  try {
    const v: unknown = Reflect.get(Object(JSON.parse(first)), 'exportVersion');
    return v === undefined ? 1 : typeof v === 'number' ? v : Number.NaN;
  } catch {
    return VERSION_EXPORT_FORMAT; // not JSON: the line parser names the line
  }
}

/** Reads a version export: its live rows, in order; `file` names it in errors. Ids are unique. */
export function parseVersionExport(text: string, file: string): VersionExportRow[] {
  if (exportVersionOf(text) === 1) return parseJsonLines(versionExportRow, text, file, { unique: 'id' });
  return parsePinnedExport(text, file)
    .filter((r) => !r.withdrawn)
    .map((r) => ({
      id: r.id,
      contributor: r.contributor,
      arrival: r.arrival,
      cid: r.cid,
      content: r.content,
      text: r.text,
    }));
}

/**
 * Rows in the order the DataNet accepted them (by `arrival`; rows without one keep their place after those with
 * one): the order attribution reads a version in, so that first come is first served.
 */
export function inArrivalOrder<T extends { arrival?: number | undefined }>(rows: readonly T[]): T[] {
  return rows
    .map((row, i) => ({ row, i }))
    .sort(
      (a, b) => (a.row.arrival ?? Number.MAX_SAFE_INTEGER) - (b.row.arrival ?? Number.MAX_SAFE_INTEGER) || a.i - b.i,
    )
    .map((x) => x.row);
}

/**
 * Reads a version export with every row of the version, withdrawn ones flagged — what pins it to the root committed
 * on chain; `file` names it in errors. Ids are unique. A version 1 export is refused: it leaves withdrawn rows out.
 */
export function parsePinnedExport(text: string, file: string): VersionExportLine[] {
  const version = exportVersionOf(text);
  if (version === 1)
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${file} is a version 1 export (no "exportVersion"): it leaves withdrawn rows out and carries no leaf data, so the version's Merkle root cannot be recomputed from it; export the version again from a node that writes version ${VERSION_EXPORT_FORMAT}`,
      { details: { file, field: 'exportVersion' } },
    );
  return parseJsonLines(versionExportLine, text, file, { unique: 'id' });
}

/** One contribution's text in an audit corpus is at most this many characters (a DataNet row is far smaller). */
export const MAX_ROW_CHARS = 1_000_000;

const nonEmpty = z
  .string({ error: 'is not a non-empty string' })
  .refine((v) => v.trim() !== '', 'is not a non-empty string');

/** One line of an audit corpus. */
export const corpusRow = z.object({
  id: nonEmpty,
  contributor: nonEmpty,
  text: nonEmpty.refine((v) => v.length <= MAX_ROW_CHARS, {
    error: (issue) =>
      `has ${typeof issue.input === 'string' ? issue.input.length : '?'} characters; the limit is ${MAX_ROW_CHARS}`,
  }),
});
export type CorpusRow = z.output<typeof corpusRow>;

/** Reads an audit corpus (JSON lines); `file` names it in errors. Blank lines are skipped; ids are unique. */
export function parseCorpus(text: string, file: string): CorpusRow[] {
  const rows = parseJsonLines(corpusRow, text, file, { unique: 'id' });
  if (rows.length === 0)
    throw new BaseError('INVALID_ARGUMENT', `${file}: the corpus is empty (no JSON lines)`, { details: { file } });
  return rows;
}
