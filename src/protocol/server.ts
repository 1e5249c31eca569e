/**
 * Serving a declared route on Fastify: the route's schemas validate the request, document it in /openapi.json and
 * encode the answer (the zod serializer refuses a body that does not match the declared response: the client
 * gets a 500 and the log names the route, so a drifting handler fails its tests instead of its clients).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteDef, RouteInput, RouteOutput } from './route.js';

export type RouteRequest<R extends RouteDef> = Omit<FastifyRequest, 'params' | 'query' | 'body'> & RouteInput<R>;

/** Answers the route's body, or the reply itself after sending something else (a stream, bytes). */
export type RouteHandler<R extends RouteDef> = (
  req: RouteRequest<R>,
  reply: FastifyReply,
) => Promise<RouteOutput<R> | FastifyReply>;

function responseSchemas(r: RouteDef): Record<number, unknown> {
  const status = r.status ?? 200;
  const out: Record<number, unknown> = { ...r.otherResponses };
  if (r.contentType) out[status] = { content: { [r.contentType]: { schema: r.response } } };
  else if (r.events)
    out[status] = {
      content: { 'application/json': { schema: r.response }, 'text/event-stream': { schema: r.events } },
    };
  else out[status] = r.response;
  return out;
}

export function serve<R extends RouteDef>(app: FastifyInstance, r: R, handler: RouteHandler<R>): void {
  const status = r.status ?? 200;
  app.route({
    method: r.method,
    url: r.path,
    schema: {
      tags: [...r.tags],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      ...(r.params ? { params: r.params } : {}),
      ...(r.query ? { querystring: r.query } : {}),
      ...(r.body ? { body: r.body } : {}),
      ...(r.operator ? { security: [{ operatorToken: [] }] } : {}),
      response: responseSchemas(r),
    },
    handler: async (req: FastifyRequest, reply: FastifyReply) => {
      if (status !== 200) reply.status(status);
      // The validator compiler has decoded params, query and body with the route's schemas.
      return handler(req as RouteRequest<R>, reply);
    },
  });
}
