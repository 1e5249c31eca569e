/**
 * A DataNet version's export: JSON lines `{id, contributor, cid, content, text}`, one live contribution per line
 * (withdrawn rows are left out), sorted by id. ModelFactory trains on it, the node attributes answers against it,
 * and anyone can recompute an attribution from it — so every reader parses it here.
 *
 * An audit corpus is any JSON lines file of `{id, contributor, text}` (a version's export has these fields): ids and
 * contributors are free-form there, texts non-empty and bounded.
 */
import { z } from 'zod';
import { BaseError } from '../../core/index.js';
import { address, bytes32, cid } from '../primitives.js';
import { parseJsonLines } from './parse.js';

/** A JSON object, kept as it is (no copy: its keys are the contributor's). */
export const jsonObject = z.custom<Record<string, unknown>>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  'expected a JSON object',
);

/** One line of a version export. */
export const versionExportRow = z.object({
  /** The contribution id: its Merkle leaf in the version. */
  id: bytes32,
  contributor: address,
  /** The content's CID in the blob store. */
  cid,
  /** The prepared row as the contributor signed it. */
  content: jsonObject,
  /** Its text (what spans and citations are found in). */
  text: z.string(),
});
export type VersionExportRow = z.output<typeof versionExportRow>;

/** Reads a version export; `file` names it in errors. Ids are unique. */
export function parseVersionExport(text: string, file: string): VersionExportRow[] {
  return parseJsonLines(versionExportRow, text, file, { unique: 'id' });
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
