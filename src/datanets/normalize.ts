/**
 * Normalization, applied to every string in a row before hashing, so that the same text always has the same
 * content hash: Unicode NFC, LF line ends, no byte-order mark or zero-width characters, no control characters
 * other than tab and newline, no trailing spaces on lines; one-line values trimmed, multi-line text without blank
 * lines at either end. Normalizing twice changes nothing.
 */

// C0/C1 controls except \t and \n, and zero-width characters that make equal-looking texts differ.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the purpose.
const INVISIBLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B-\u200D\u2060\uFEFF]/g;

export function normalizeText(s: string): string {
  // Invisible characters go first: removing one can bring together characters that NFC then composes.
  const t = s
    .replace(/\r\n?/g, '\n')
    .replace(INVISIBLE, '')
    .normalize('NFC')
    .replace(/[ \t]+$/gm, '')
    .replace(/^(?:[ \t]*\n)+|\n+$/g, '');
  // One-line values are trimmed; multi-line text keeps its indentation (code, poetry).
  return t.includes('\n') ? t : t.trim();
}

/** Applies normalizeText to every string inside `value`, including object keys. */
export function normalizeValue(value: unknown): unknown {
  if (typeof value === 'string') return normalizeText(value);
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value !== null && typeof value === 'object') return normalizeObject(value);
  return value;
}

/** normalizeValue of an object (a row): its keys and every string inside it normalized. */
export function normalizeObject(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[normalizeText(k)] = normalizeValue(v);
  return out;
}

/** All string content of a row, in key order, for similarity (MinHash) and PII scans. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).filter(Boolean).join('\n');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // in key order (UTF-16 code units, as sort() compares)
      .map(([, v]) => textOf(v))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}
