/**
 * Audit corpora: JSON lines `{"id", "contributor", "text"}`, one contribution per line. Anyone can recompute an
 * attribution from such a file (a DataNet version's export has the same three fields), so errors name the file,
 * the line and the field, and nothing in a bad file is half-used.
 */
import { readFileSync } from 'node:fs';
import { BaseError } from '../core/index.js';

export interface CorpusRow {
  id: string;
  contributor: string;
  text: string;
}

/** One contribution's text is at most this many characters (a DataNet row is far smaller). */
export const MAX_ROW_CHARS = 1_000_000;

function rowError(file: string, line: number, message: string, field?: string): BaseError {
  return new BaseError('INVALID_ARGUMENT', `${file}:${line}: ${message}`, {
    details: { file, line, ...(field ? { field } : {}) },
  });
}

/** Parses the JSONL text of a corpus; `file` names it in errors. Blank lines are skipped. */
export function parseCorpus(text: string, file: string): CorpusRow[] {
  const rows: CorpusRow[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw rowError(file, line, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw rowError(file, line, 'expected a JSON object {"id", "contributor", "text"}');
    const o = value as Record<string, unknown>;
    for (const field of ['id', 'contributor', 'text'] as const) {
      const v = o[field];
      if (typeof v !== 'string' || v.trim() === '')
        throw rowError(
          file,
          line,
          `field "${field}" is ${v === undefined ? 'missing' : 'not a non-empty string'}`,
          field,
        );
    }
    const row = { id: o.id as string, contributor: o.contributor as string, text: o.text as string };
    if (row.text.length > MAX_ROW_CHARS)
      throw rowError(
        file,
        line,
        `field "text" has ${row.text.length} characters; the limit is ${MAX_ROW_CHARS}`,
        'text',
      );
    const earlier = seen.get(row.id);
    if (earlier !== undefined) throw rowError(file, line, `id "${row.id}" already used on line ${earlier}`, 'id');
    seen.set(row.id, line);
    rows.push(row);
  }
  if (rows.length === 0)
    throw new BaseError('INVALID_ARGUMENT', `${file}: the corpus is empty (no JSON lines)`, { details: { file } });
  return rows;
}

export function readCorpus(file: string): CorpusRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BaseError(
      'NOT_FOUND',
      `Cannot read corpus ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        details: { file },
      },
    );
  }
  return parseCorpus(text, file);
}
