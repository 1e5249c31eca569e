/**
 * Calling a Tributary node over HTTP: JSON in and out, and the node's error body
 * `{"error": {code, message, details}}` turned back into the same BaseError the node threw.
 */
import { z } from 'zod';
import { BaseError, isErrorCode, messageOf } from './errors.js';
import { bigintReplacer } from './json.js';

/** The node's error body, as far as it can be read (any member may be missing or of another shape). */
const errorBody = z.object({
  error: z
    .object({
      code: z.string().optional().catch(undefined),
      message: z.string().optional().catch(undefined),
      details: z.record(z.string(), z.unknown()).optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});

export interface ApiClient {
  readonly baseUrl: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** The raw response, for streams (exports). */
  raw(method: string, path: string): Promise<Response>;
}

/** `headers` go with every request (e.g. the operator's `authorization`). */
export function createApiClient(baseUrl: string, options: { headers?: Record<string, string> } = {}): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  const extra = options.headers ?? {};
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        ...(body === undefined
          ? { headers: extra }
          : { headers: { ...extra, 'content-type': 'application/json' }, body: JSON.stringify(body, bigintReplacer) }),
      });
    } catch (e) {
      throw new BaseError(
        'NODE_UNAVAILABLE',
        `No Tributary node answers at ${base} (${messageOf(e)}); start one with \`tributary up\``,
        {
          details: { api: base },
          cause: e,
        },
      );
    }
    if (!res.ok) {
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        // not a JSON error body
      }
      const read = errorBody.safeParse(body);
      const parsed = read.success ? read.data : {};
      const code = isErrorCode(parsed.error?.code) ? parsed.error.code : 'INTERNAL';
      throw new BaseError(code, parsed.error?.message ?? `${method} ${path} failed with HTTP ${res.status}`, {
        details: { status: res.status, ...(parsed.error?.details ?? {}) },
      });
    }
    return res;
  }
  return {
    baseUrl: base,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await send(method, path, body);
      return (res.status === 204 ? undefined : await res.json()) as T;
    },
    raw: (method, path) => send(method, path),
  };
}
