/**
 * How resource endpoints are declared: one call per route with its schemas (the request's,
 * the response's and the catalogue's errors), the caller's context, and the status.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Ctx } from '../resources/context.js';
import { NimbusError } from '../core/errors.js';
import { contextOf, PROJECT_HEADER, type AppDeps } from './context.js';
import { ErrorBody } from '../core/model/index.js';

export type Handler = (ctx: Ctx, req: FastifyRequest) => unknown;

/** A response already serialized (stored documents sent as they are): sent without the schema's serializer. */
export class RawJson {
  constructor(readonly text: string) {}

  /** A JSON array of documents already in JSON. */
  static array(items: string[]): RawJson {
    return new RawJson(`[${items.join(',')}]`);
  }
}

const errors = { 400: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody), 409: Type.Ref(ErrorBody) };
const headers = Type.Object({ [PROJECT_HEADER]: Type.Optional(Type.String({ description: "project name or id; 'default' when absent" })) });
const refParam = Type.Object({ ref: Type.String({ description: 'name or id' }) });

export interface Spec {
  tag: string;
  summary: string;
  body?: TSchema;
  query?: TSchema;
  params?: TSchema;
  response: TSchema;
  status?: number;
  /** Admin tokens only: a project token is refused (403) before its request is even validated. */
  admin?: boolean;
}

export function routeMaker(app: FastifyInstance, deps: AppDeps) {
  return (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, spec: Spec, handler: Handler) => {
    const status = spec.status ?? 200;
    app.route({
      method,
      url,
      ...(spec.admin ? { onRequest: adminOnly } : {}),
      // A call that takes no body refuses one (an empty object aside), rather than ignoring whatever came.
      ...(!spec.body && method !== 'GET' ? { preValidation: noBody } : {}),
      schema: {
        tags: [spec.tag],
        summary: spec.summary,
        headers,
        ...(spec.body ? { body: spec.body } : {}),
        ...(spec.query ? { querystring: spec.query } : {}),
        ...((spec.params ?? url.includes(':ref')) ? { params: spec.params ?? refParam } : {}),
        response: { [status]: spec.response, ...errors },
      },
      handler: async (req, reply) => {
        const out = handler(contextOf(deps, req), req);
        reply.status(status);
        if (out instanceof RawJson)
          return reply
            .type('application/json; charset=utf-8')
            .serializer((p: unknown) => p as string)
            .send(out.text);
        return out;
      },
    });
  };
}

/** A route hook refusing a body on a call that takes none. */
async function noBody(req: FastifyRequest): Promise<void> {
  const b = req.body;
  if (b === undefined || b === null || b === '' || (typeof b === 'object' && !Array.isArray(b) && Object.keys(b).length === 0)) return;
  throw new NimbusError('InvalidParameterValue', `${req.method} ${req.routeOptions.url ?? req.url} takes no body; send none`);
}

/** A route hook refusing project tokens. */
export async function adminOnly(req: FastifyRequest): Promise<void> {
  if (!req.principal?.admin)
    throw new NimbusError('UnauthorizedOperation', `${req.method} ${req.url.split('?')[0]} needs an admin token; a project token may not`);
}

export const helpers = {
  ref: (req: FastifyRequest) => (req.params as { ref: string }).ref,
  body: <T>(req: FastifyRequest) => req.body as T,
  q: <T>(req: FastifyRequest) => req.query as T,
  list: (s: string) => Type.Array(Type.Ref(Type.Object({}, { $id: s }))),
  one: (s: string) => Type.Ref(Type.Object({}, { $id: s })),
};
