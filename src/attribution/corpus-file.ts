/**
 * Audit corpora: JSON lines `{"id", "contributor", "text"}`, one contribution per line. Anyone can recompute an
 * attribution from such a file (a DataNet version's export has the same three fields); the row's shape and its
 * parse, with errors that name the file, the line and the field, are the protocol's (`parseCorpus`).
 */
import { readFileSync } from 'node:fs';
import { BaseError, errnoCode, messageOf } from '../core/index.js';
import { type CorpusRow, parseCorpus } from '../protocol/index.js';

export { type CorpusRow, MAX_ROW_CHARS, parseCorpus } from '../protocol/index.js';

export function readCorpus(file: string): CorpusRow[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const reason = errnoCode(e) ?? messageOf(e);
    throw new BaseError('NOT_FOUND', `Cannot read corpus ${file}: ${reason}`, { details: { file } });
  }
  return parseCorpus(text, file);
}
