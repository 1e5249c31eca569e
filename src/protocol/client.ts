/**
 * The one typed client of the node API. `call(route, input)` fills the path, encodes query and body with the
 * route's schemas, and decodes the answer with its response schema, so the CLI, the demo and the web app get
 * `bigint`s and `Date`s typed from the same declaration the node serves. A node error body
 * `{"error": {code, message, details}}` comes back as the same BaseError the node threw.
 */
import { z } from 'zod';
import { BaseError, bigintReplacer, isErrorCode } from '../core/index.js';
import type { RouteDef } from './route.js';

type Decoded<S> = S extends z.ZodType ? z.output<S> : never;

/** What a call needs: the decoded values of the route's params, query and body, and extra headers. */
export type CallInput<R extends RouteDef> = (R['params'] extends z.ZodType
  ? { params: Decoded<R['params']> }
  : unknown) &
  (R['query'] extends z.ZodType ? { query?: Partial<Decoded<R['query']>> } : unknown) &
  (R['body'] extends z.ZodType ? { body: Decoded<R['body']> } : { bytes?: Uint8Array }) & {
    headers?: Record<string, string>;
    signal?: AbortSignal;
  };

export interface NodeClient {
  readonly baseUrl: string;
  /** Calls a JSON route and decodes its answer. */
  call<R extends RouteDef>(r: R, input?: CallInput<R>): Promise<z.output<R['response']>>;
  /** Calls a route and returns the raw response (bytes, JSON lines, server-sent events). */
  open<R extends RouteDef>(r: R, input?: CallInput<R>): Promise<Response>;
}

export interface NodeClientOptions {
  /** Sent with every request (e.g. the operator's `authorization`). */
  headers?: Record<string, string>;
  /** A fetch that pays (settlement's createPayingFetch) or is instrumented; global fetch by default. */
  fetch?: typeof fetch;
}

interface LooseInput {
  params?: unknown;
  query?: unknown;
  body?: unknown;
  /** Raw bytes for a route that takes `application/octet-stream` (blobs). */
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function fillPath(r: RouteDef, params: unknown): string {
  if (!r.params) return r.path;
  const encoded = z.encode(r.params, params);
  const values = typeof encoded === 'object' && encoded !== null ? encoded : {};
  return r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v: unknown = Reflect.get(values, name);
    if (v === undefined) throw new BaseError('INVALID_ARGUMENT', `Missing path parameter "${name}" for ${r.path}`);
    return encodeURIComponent(String(v));
  });
}

function queryString(r: RouteDef, query: unknown): string {
  if (!r.query || query === undefined) return '';
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query as object)) {
    if (v === undefined || v === null) continue;
    search.set(k, typeof v === 'bigint' ? v.toString() : String(v instanceof Date ? v.toISOString() : v));
  }
  const s = search.toString();
  return s ? `?${s}` : '';
}

/**
 * Turns a node's error answer into the BaseError it stands for. The node's own body names the code; an OpenAI route's
 * body (`{error: {message, type, param, code}}`) carries it in lower case (or `model_not_found`), and its `param` is
 * the field at fault.
 */
export async function errorFromResponse(res: Response, what: string): Promise<BaseError> {
  const body: unknown = await res.json().catch(() => undefined);
  const parsed = errorBody.safeParse(body);
  const e = parsed.success ? parsed.data.error : undefined;
  const code = e?.code === 'model_not_found' ? 'NOT_FOUND' : e?.code.toUpperCase();
  const param = e?.param;
  return new BaseError(
    code !== undefined && isErrorCode(code) ? code : 'INTERNAL',
    e?.message ?? `${what} failed with HTTP ${res.status}`,
    {
      details: { status: res.status, ...(typeof param === 'string' ? { field: param } : {}), ...(e?.details ?? {}) },
    },
  );
}

/** An argument the route's schema refuses before anything is sent: the INVALID_ARGUMENT the node would answer. */
function refusedArgument(e: unknown): never {
  if (!(e instanceof z.ZodError)) throw e;
  const issues = e.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message }));
  const first = issues[0];
  throw new BaseError('INVALID_ARGUMENT', `Invalid ${first?.field || 'argument'}: ${first?.message ?? 'invalid'}`, {
    details: { issues },
  });
}

/** The body of every error answer. */
export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    docs: z.string().optional(),
    /** OpenAI-compatible routes: the parameter at fault. */
    param: z.string().nullish(),
  }),
});

export function createNodeClient(baseUrl: string, options: NodeClientOptions = {}): NodeClient {
  const base = baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function open(r: RouteDef, input: LooseInput = {}): Promise<Response> {
    let path: string;
    const headers: Record<string, string> = { ...options.headers, ...input.headers };
    let body: string | Uint8Array | undefined;
    try {
      path = `${fillPath(r, input.params)}${queryString(r, input.query)}`;
      if (r.body) {
        body = JSON.stringify(z.encode(r.body, input.body), bigintReplacer);
        headers['content-type'] = 'application/json';
      }
    } catch (e) {
      refusedArgument(e);
    }
    if (input.bytes) {
      body = input.bytes;
      headers['content-type'] = 'application/octet-stream';
    }
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method: r.method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(input.signal ? { signal: input.signal } : {}),
      });
    } catch (e) {
      if (e instanceof BaseError) throw e;
      throw new BaseError(
        'NODE_UNAVAILABLE',
        `No Tributary node answers at ${base} (${e instanceof Error ? e.message : String(e)}); start one with \`tributary up\``,
        { details: { api: base }, cause: e },
      );
    }
    if (!res.ok) throw await errorFromResponse(res, `${r.method} ${path}`);
    return res;
  }

  return {
    baseUrl: base,
    open: (r, input) => open(r, input),
    async call<R extends RouteDef>(r: R, input?: CallInput<R>) {
      const res = await open(r, input);
      const json: unknown = res.status === 204 ? undefined : await res.json();
      const decoded = z.safeParse<R['response']>(r.response, json);
      if (!decoded.success)
        throw new BaseError('INTERNAL', `The node's answer to ${r.method} ${r.path} does not match its schema`, {
          details: { route: `${r.method} ${r.path}`, issues: decoded.error.issues.slice(0, 5) },
        });
      return decoded.data;
    },
  };
}
