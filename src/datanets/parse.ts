/**
 * Turning uploaded bytes into rows. JSONL: one JSON object per line. CSV: one object per record, keyed by the
 * header. Text and Markdown: one row `{"text": …}` per document, or per paragraph (blank-line separated). Every
 * row keeps the line it started on, so every later error can name it.
 */
import { CsvError, type InfoRecord, parse as parseCsv } from 'csv-parse/sync';
import { lineColumn, messageOf, parseJson } from '../core/index.js';

export const inputFormats = ['jsonl', 'csv', 'text', 'markdown'] as const;
export type InputFormat = (typeof inputFormats)[number];

export interface ParsedRow {
  /** 1-based line where the row starts in its source. */
  line: number;
  data: Record<string, unknown>;
}

export interface RowError {
  line: number;
  /** Stable reason: utf8 | json | not_object | csv | size | schema | pii | empty. */
  reason: string;
  message: string;
  field?: string;
}

export interface ParseResult {
  rows: ParsedRow[];
  errors: RowError[];
}

export interface ParseOptions {
  format: InputFormat;
  /** For text and Markdown: one row per file (default) or per paragraph. */
  split?: 'document' | 'paragraph';
}

/** The format a file name implies, if any. */
export function formatFromName(name: string): InputFormat | undefined {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'md' || ext === 'markdown') return 'markdown';
  if (ext === 'txt' || ext === 'text') return 'text';
  return undefined;
}

/** Whether a parsed JSON value is an object (not null, not an array): what a row is. */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Byte offset of the first byte that is not valid UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  return invalidUtf8(bytes)?.offset ?? -1;
}

/** The first byte that is not valid UTF-8 (its offset and value), if any. */
function invalidUtf8(bytes: Uint8Array): { offset: number; byte: number } | undefined {
  let i = 0;
  for (let b = bytes[i]; b !== undefined; b = bytes[i]) {
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return { offset: i, byte: b };
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return { offset: i, byte: b };
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { offset: i, byte: b };
    i += need + 1;
  }
  return undefined;
}

/** A byte in hex, as errors show it (`0x…`). */
const byteHex = (byte: number) => `0x${byte.toString(16).padStart(2, '0')}`;

function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 10) line++;
  return line;
}

const decoder = new TextDecoder('utf-8');

/** Parses `bytes` into rows; rows that cannot be read become errors naming their line, the rest survive. */
export function parseRows(bytes: Uint8Array, options: ParseOptions): ParseResult {
  if (options.format === 'jsonl') return parseJsonl(bytes);
  const bad = invalidUtf8(bytes);
  if (bad) {
    const line = lineOfByte(bytes, bad.offset);
    return {
      rows: [],
      errors: [
        {
          line,
          reason: 'utf8',
          message: `line ${line}: byte ${bad.offset} is not valid UTF-8 (${byteHex(bad.byte)})`,
        },
      ],
    };
  }
  const text = decoder.decode(bytes).replace(/^\uFEFF/, '');
  if (options.format === 'csv') return parseCsvRows(text);
  return parseText(text, options.split ?? 'document');
}

function parseJsonl(bytes: Uint8Array): ParseResult {
  const rows: ParsedRow[] = [];
  const errors: RowError[] = [];
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const raw = bytes.subarray(start, end);
    const here = line;
    start = end + 1;
    line++;
    const bad = invalidUtf8(raw);
    if (bad) {
      errors.push({
        line: here,
        reason: 'utf8',
        message: `line ${here}: byte ${bad.offset + 1} of the line is not valid UTF-8 (${byteHex(bad.byte)})`,
      });
      continue;
    }
    const text = decoder
      .decode(raw)
      .replace(/^\uFEFF/, '')
      .replace(/\r$/, '');
    if (text.trim() === '') continue;
    const parsed = parseJson(text);
    if (!parsed.ok) {
      errors.push({
        line: here,
        reason: 'json',
        message: `line ${here}: invalid JSON at column ${parsed.column}: ${parsed.reason}`,
      });
      continue;
    }
    const v = parsed.value;
    if (!isJsonObject(v)) {
      errors.push({
        line: here,
        reason: 'not_object',
        message: `line ${here}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`}`,
      });
      continue;
    }
    rows.push({ line: here, data: v });
  }
  return { rows, errors };
}

function parseCsvRows(text: string): ParseResult {
  try {
    // With `columns` and `info`, each record is its fields by header name with the parser's position after it.
    const records = parseCsv<{ record: Record<string, string>; info: InfoRecord }>(text, {
      columns: true,
      skip_empty_lines: true,
      info: true,
      relax_column_count: false,
      trim: false,
    });
    // csv-parse reports the line a record ends on; multi-line quoted fields start earlier, so count back.
    return {
      rows: records.map(({ record, info }) => ({ line: info.lines - countNewlines(record), data: record })),
      errors: [],
    };
  } catch (e) {
    // csv-parse's errors name the line they stopped at.
    const line = e instanceof CsvError && typeof e.lines === 'number' ? e.lines : 1;
    return {
      rows: [],
      errors: [
        { line, reason: 'csv', message: `line ${line}: ${messageOf(e).replace(/^Invalid Record Length: /, '')}` },
      ],
    };
  }
}

function countNewlines(record: Record<string, string>): number {
  let n = 0;
  for (const v of Object.values(record)) for (const ch of v) if (ch === '\n') n++;
  return n;
}

function parseText(text: string, split: 'document' | 'paragraph'): ParseResult {
  if (split === 'document')
    return text.trim() === '' ? { rows: [], errors: [] } : { rows: [{ line: 1, data: { text } }], errors: [] };
  const rows: ParsedRow[] = [];
  const re = /\S[\s\S]*?(?=\n[ \t]*\n|$)/g;
  for (const m of text.matchAll(re)) {
    rows.push({ line: lineColumn(text, m.index).line, data: { text: m[0].trimEnd() } });
  }
  return { rows, errors: [] };
}
