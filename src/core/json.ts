/**
 * Canonical JSON: object keys sorted, bigints as decimal strings, no undefined members. Anything that decides
 * money is serialized with it, so a recomputation gives the same bytes and the same hash.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value, '$'));
}

function normalize(value: unknown, path: string): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${path} is ${value}, which JSON cannot represent`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => normalize(v ?? null, `${path}[${i}]`));
  if (value instanceof Uint8Array) throw new TypeError(`canonicalJson: ${path} is bytes; encode it as hex first`);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const entries: [string, unknown][] = Object.entries(value);
    for (const [key, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (v !== undefined) out[key] = normalize(v, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`canonicalJson: ${path} has unsupported type ${typeof value}`);
}

/** JSON.stringify replacer that writes bigints as decimal strings (for output meant for people and scripts). */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Line and column (1-based) of character `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Thrown inside the scanner with the offset where the text stops being JSON. */
class JsonSyntaxAt {
  constructor(readonly offset: number) {}
}

/**
 * Offset of the first JSON syntax error in `text` (text.length when the text ends too early). Used only after
 * JSON.parse failed, because V8's messages do not always carry a position.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (at = i): never => {
    throw new JsonSyntaxAt(at);
  };
  const skipWhitespace = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) fail();
    i++;
  };
  const literal = (word: string) => {
    for (const ch of word) expect(ch);
  };
  const string = () => {
    expect('"');
    while (text[i] !== '"') {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text.charAt(i + k))) fail(i + k);
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text.charAt(i)) || i >= text.length) fail();
      }
      i++;
    }
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '-') fail();
    i += m?.[0].length ?? 0;
  };
  const sequence = (close: string, item: () => void) => {
    i++;
    skipWhitespace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      skipWhitespace();
      if (text[i] === close) {
        i++;
        return;
      }
      expect(',');
    }
  };
  const member = () => {
    skipWhitespace();
    string();
    skipWhitespace();
    expect(':');
    value();
  };
  const value = (): void => {
    skipWhitespace();
    const c = text.charAt(i);
    if (c === '{') sequence('}', member);
    else if (c === '[') sequence(']', value);
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c >= '0' && c <= '9' && c !== '')) number();
    else fail();
  };
  try {
    value();
    skipWhitespace();
    return i;
  } catch (e) {
    if (e instanceof JsonSyntaxAt) return Math.min(e.offset, text.length);
    throw e;
  }
}

/** JSON.parse that reports where a syntax error is, as line and column, instead of a character offset. */
export function parseJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; reason: string; line: number; column: number } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const offset = jsonErrorOffset(text);
    const at = lineColumn(text, offset);
    const reason = offset >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[offset])}`;
    void e;
    return { ok: false, reason, ...at };
  }
}
