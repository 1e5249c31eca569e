/**
 * A route of the node API, declared once: method, path, what it takes and what it answers. The node serves it
 * (`serve`, in server.ts), the OpenAPI document is generated from it, and clients call it (`createNodeClient`)
 * with types inferred from the same schemas — a wire shape changes in one place and the compiler finds every use.
 */
import type { z } from 'zod';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteDef {
  method: Method;
  /** Fastify-style path; `:name` segments are filled from `params`. */
  path: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Success status; 200 unless said. */
  status?: 200 | 201 | 202;
  /** The success body: JSON unless `contentType` says otherwise. */
  response: z.ZodType;
  /** A non-JSON success body (bytes, JSON lines, text); `response` describes it. */
  /** `application/json` here means JSON sent verbatim as stored (a content-addressed export), never re-encoded. */
  contentType?: 'application/octet-stream' | 'application/x-ndjson' | 'text/plain' | 'application/json';
  /** When the request asks for a stream: the server-sent events' data, one JSON object per event. */
  events?: z.ZodType;
  /** Other documented answers with a body, such as 503 with the same shape. */
  otherResponses?: Partial<Record<number, z.ZodType>>;
  /** Needs the node operator's token. */
  operator?: boolean;
}

/** Declares a route; `const` keeps the literal method and path in the type. */
export function route<const R extends RouteDef>(r: R): R {
  return r;
}

type Decoded<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler gets: decoded params, query and body. */
export interface RouteInput<R extends RouteDef> {
  params: Decoded<R['params']>;
  query: Decoded<R['query']>;
  body: Decoded<R['body']>;
}

/** What a route answers, before the response schema encodes it for the wire. */
export type RouteOutput<R extends RouteDef> = z.output<R['response']>;
