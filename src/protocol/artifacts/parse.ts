/**
 * Reading a file artifact: the one way text becomes a schema's value, wherever it is read (the node, an auditor,
 * the CLI). A bad artifact is refused as INVALID_ARGUMENT naming where — `file:line: field "x" …` for JSON lines,
 * `source: field "x" …` for one JSON document — with details {file, line, field}; nothing in it is half-used.
 */
import type { z } from 'zod';
import { BaseError, parseJson } from '../../core/index.js';

/** The value at `path` inside `value` (undefined when a step is absent). */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = Reflect.get(v, key);
  }
  return v;
}

/** `field "x.y" is missing`, `field "x" is not a non-empty string`, `field "x": expected …`. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): { field: string; text: string } {
  const field = issue.path.map(String).join('.');
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined)
    return { field, text: `field "${field}" is missing` };
  // Messages written as predicates ("is …", "has …") read on from the field's name.
  const joiner = /^(?:is|has) /.test(issue.message) ? ' ' : ': ';
  return { field, text: `field "${field}"${joiner}${issue.message}` };
}

/** What a JSON object of this schema looks like: `{"id", "contributor", "text"}`. */
function objectShape(schema: z.ZodType): string {
  const shape = 'shape' in schema && typeof schema.shape === 'object' && schema.shape !== null ? schema.shape : {};
  const keys = Object.keys(shape);
  return keys.length > 0 ? ` {${keys.map((k) => JSON.stringify(k)).join(', ')}}` : '';
}

/**
 * Decodes a value already read as JSON (an HTTP body, a jsonb column) with `schema`; `source` names it in errors
 * (`source: field "x" …`, details {file: source, field}).
 */
export function decodeArtifact<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue || issue.path.length === 0)
    throw new BaseError('INVALID_ARGUMENT', `${source}: expected a JSON object${objectShape(schema)}`, {
      details: { file: source },
    });
  const { field, text } = describeIssue(issue, value);
  throw new BaseError('INVALID_ARGUMENT', `${source}: ${text}`, { details: { file: source, field } });
}

/** The JSON value of `text`; INVALID_ARGUMENT names the line and column where it stops being JSON. */
export function jsonOf(text: string, source: string): unknown {
  const parsed = parseJson(text);
  if (!parsed.ok)
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${source} is not JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
      { details: { file: source, line: parsed.line, column: parsed.column } },
    );
  return parsed.value;
}

/** One JSON document read with `schema` (a manifest, a receipt, an export). */
export function parseJsonArtifact<S extends z.ZodType>(schema: S, text: string, source: string): z.output<S> {
  return decodeArtifact(schema, jsonOf(text, source), source);
}

/** Whether a JSON value is an object whose `kind` (and `version`, when given) are these. */
export function isKind(value: unknown, kind: string, version?: number): boolean {
  return valueAt(value, ['kind']) === kind && (version === undefined || valueAt(value, ['version']) === version);
}

function lineError(file: string, line: number, message: string, field?: string): BaseError {
  return new BaseError('INVALID_ARGUMENT', `${file}:${line}: ${message}`, {
    details: { file, line, ...(field ? { field } : {}) },
  });
}

/** The names of a schema's output fields that hold strings (candidates for a uniqueness check). */
type StringField<T> = { [K in keyof T]: T[K] extends string ? K : never }[keyof T] & string;

export interface JsonLinesOptions<T> {
  /** A field whose value may appear on one line only: `id "a" already used on line 1`. */
  unique?: StringField<T>;
}

/**
 * JSON lines, one object per line, each decoded with `schema`; blank lines are skipped. Errors name the file, the
 * line and the field: `corpus.jsonl:2: field "contributor" is missing` (details {file, line, field}).
 */
export function parseJsonLines<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  options: JsonLinesOptions<z.output<S>> = {},
): z.output<S>[] {
  const out: z.output<S>[] = [];
  const seen = new Map<unknown, number>();
  const lines = text.split('\n');
  for (const [i, rawLine] of lines.entries()) {
    const raw = rawLine.trim();
    if (raw === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw lineError(file, line, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    const r = schema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      if (!issue || issue.path.length === 0 || typeof value !== 'object' || value === null || Array.isArray(value))
        throw lineError(file, line, `expected a JSON object${objectShape(schema)}`);
      const { field, text: message } = describeIssue(issue, value);
      throw lineError(file, line, message, field);
    }
    if (options.unique !== undefined) {
      const key = valueAt(r.data, [options.unique]);
      const earlier = seen.get(key);
      if (earlier !== undefined)
        throw lineError(
          file,
          line,
          `${options.unique} "${String(key)}" already used on line ${earlier}`,
          options.unique,
        );
      seen.set(key, line);
    }
    out.push(r.data);
  }
  return out;
}
