/**
 * Server-sent events for a declared route (one with `events`). The stream opens — status 200 and
 * `text/event-stream` — only when its first event is ready, so anything that fails before that is an ordinary
 * error answer with its status. Each event's data is the route's `events` schema encoded (`data: <json>`, with an
 * optional `event:` name); an error after the stream opened can no longer change the status, so it travels as one
 * last event; a client that disconnects aborts `signal`, so whatever produces the events stops.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { BaseError, httpStatusByCode } from '../core/index.js';
import type { RouteDef } from './route.js';

/** A route that streams: its `events` schema describes each event's data. */
export type StreamingRoute = RouteDef & { events: z.ZodType };

/** What one event of the route carries, before encoding. */
export type EventData<R extends StreamingRoute> = z.output<R['events']>;

export interface EventStreamOptions<R extends StreamingRoute> {
  /** Written by `end()` as the last event's data: OpenAI's streams end with `data: [DONE]`. */
  done?: string;
  /**
   * The event that reports an error once the stream is open. Default: the node's error body,
   * `{"error": {code, message, details?}}` (anything but a BaseError reported as INTERNAL without its message).
   * Either is encoded with the route's events schema; one that does not match is logged and the stream closed.
   */
  errorEvent?: (e: unknown) => EventData<R>;
  /** The error event's `event:` name (none by default: OpenAI's clients read unnamed events). */
  errorEventName?: string;
  /** Writes a comment line this often while open, so proxies keep an idle stream. */
  keepAliveMs?: number;
}

export interface EventStream<T> {
  /** Whether the status and headers are out (after the first event). */
  readonly opened: boolean;
  /** Aborted when the client goes away before the stream ended. */
  readonly signal: AbortSignal;
  /** Encodes `data` with the route's events schema and writes it, opening the stream first if needed. */
  send(data: T, event?: string): void;
  /** Writes the `done` marker, if any, and closes the stream (opening it first if nothing was sent). */
  end(): void;
  /** Reports `e` as the error event and closes; before the stream opened, throws `e` instead (a plain error answer). */
  fail(e: unknown): void;
}

/** An AbortSignal aborted when the client disconnects before the reply is complete. */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) controller.abort(new BaseError('CONFLICT', 'The client disconnected'));
  });
  return controller.signal;
}

function nodeErrorEvent(e: unknown) {
  const err = e instanceof BaseError ? e : new BaseError('INTERNAL', 'Internal error');
  return { error: err.toJSON() };
}

function encode(r: StreamingRoute, data: unknown): string {
  const encoded = z.safeEncode(r.events, data);
  if (!encoded.success)
    throw new BaseError('INTERNAL', `An event of ${r.method} ${r.path} does not match its schema`, {
      details: { route: `${r.method} ${r.path}`, issues: encoded.error.issues.slice(0, 5) },
    });
  return JSON.stringify(encoded.data);
}

/** Encodes one event's data with the route's schema; INTERNAL naming the route if it does not match. */
export function encodeEvent<R extends StreamingRoute>(r: R, data: EventData<R>): string {
  return encode(r, data);
}

/** An event stream on `reply`, for route `r`; nothing is written until the first `send` (or `end`). */
export function eventStream<R extends StreamingRoute>(
  r: R,
  reply: FastifyReply,
  options: EventStreamOptions<R> = {},
): EventStream<EventData<R>> {
  const signal = disconnectSignal(reply);
  const raw = reply.raw;
  let opened = false;
  let keepAlive: NodeJS.Timeout | undefined;

  const frame = (json: string, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${json}\n\n`;
  const write = (chunk: string) => {
    if (!raw.writableEnded && !raw.destroyed) raw.write(chunk);
  };
  const close = () => {
    if (keepAlive) clearInterval(keepAlive);
    keepAlive = undefined;
    if (!raw.writableEnded) raw.end();
  };
  const open = () => {
    if (opened) return;
    opened = true;
    // Fastify must not answer again once the handler returns: the stream is written here.
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    if (options.keepAliveMs) {
      keepAlive = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs);
      keepAlive.unref();
    }
  };
  raw.on('close', () => {
    if (keepAlive) clearInterval(keepAlive);
  });

  return {
    get opened() {
      return opened;
    },
    signal,
    send(data, event) {
      const json = encodeEvent(r, data);
      open();
      write(frame(json, event));
    },
    end() {
      open();
      if (options.done !== undefined) write(`data: ${options.done}\n\n`);
      close();
    },
    fail(e) {
      if (!opened) throw e;
      const status = e instanceof BaseError ? httpStatusByCode[e.code] : 500;
      if (status >= 500) reply.log.error({ err: e }, `${r.method} ${r.path} failed after its event stream opened`);
      try {
        write(frame(encode(r, (options.errorEvent ?? nodeErrorEvent)(e)), options.errorEventName));
      } catch (encodeError) {
        reply.log.error({ err: encodeError }, `${r.method} ${r.path}: the error event does not match its schema`);
      }
      close();
    },
  };
}

/**
 * Streams the events `produce` sends, then ends the stream. If `produce` throws before the first event, the error
 * propagates (the route's error handler answers it with its status); after, it becomes the error event.
 * Returns the reply, for a `serve` handler to return.
 */
export async function streamEvents<R extends StreamingRoute>(
  r: R,
  reply: FastifyReply,
  produce: (stream: EventStream<EventData<R>>) => Promise<void>,
  options: EventStreamOptions<R> = {},
): Promise<FastifyReply> {
  const stream = eventStream(r, reply, options);
  try {
    await produce(stream);
  } catch (e) {
    stream.fail(e);
    return reply;
  }
  stream.end();
  return reply;
}
