/**
 * buildApp(): the REST API as a Fastify instance, without listen(). Errors leave as
 * `{code, message}` with the catalogue's status; the OpenAPI document is at /openapi.json.
 */
import { randomUUID } from 'node:crypto';
import { encodeError } from '../aws/codec.js';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { NimbusError } from '../core/errors.js';
import { contextOf, type AppDeps } from './context.js';
import { statusFor } from './status.js';
import { SHARED_SCHEMAS } from '../core/model/index.js';
import { networkRoutes } from './network-routes.js';
import { edgeRoutes } from './edge-routes.js';
import { aclRoutes } from './acl-routes.js';
import { flowLogRoutes } from './flow-log-routes.js';
import { analyzerRoutes, chassisRoutes, dataplaneRoutes } from './analyzer-routes.js';
import { lbRoutes, metricsRoute } from './lb-routes.js';
import { topologyRoutes } from './topology-routes.js';
import { consoleRoutes } from './console.js';
import { attachRoute } from './attach-route.js';
import { useLazyCompilers } from './compilers.js';
import { authHooks } from './auth.js';
import { awsRoutes } from './aws-route.js';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // Bounded input: no body over 64 kB, no path parameter over 512 characters (a ref is at most 128).
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 512 },
    // Even what the framework refuses leaves as the catalogue's {code, message}.
    frameworkErrors: (err, _req, reply) => {
      (reply as unknown as { status(n: number): { send(b: unknown): void } })
        .status(400)
        .send({ code: 'InvalidParameterValue', message: `the request is malformed: ${err.message}` });
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return void socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const body = JSON.stringify({
        code: 'InvalidParameterValue',
        message: tooLarge ? 'the request head is over 16 kB' : `the request is not HTTP this daemon reads (${err.code ?? err.message})`,
      });
      socket.end(
        `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
    // Name the value at fault: `body/port must be <= 65535`, `body has no field 'colour'`.
    schemaErrorFormatter: (errs, dataVar) => {
      const e = errs[0] as (typeof errs)[number] & { data?: unknown };
      const where = `${dataVar}${e.instancePath}`;
      const params = e.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown[] };
      if (params.additionalProperty) return new Error(`${where} has no field '${params.additionalProperty}'`);
      if (params.missingProperty) return new Error(`${where}/${params.missingProperty} is required`);
      // An enumeration names the value at fault and every value allowed.
      if (params.allowedValues) return new Error(`${where}: '${String(e.data)}' must be one of ${params.allowedValues.join(', ')}`);
      return new Error(`${where} ${e.message}`);
    },
  });
  useLazyCompilers(app);
  authHooks(app, deps);
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Nimbus API', version: deps.version, description: "A public cloud's network on one Linux machine." },
      components: {
        parameters: {},
      },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof NimbusError) return reply.status(err.status).send({ code: err.code, message: err.message, ...err.extra });
    const e = err as { validation?: unknown; message?: string; statusCode?: number; code?: string };
    // The AWS endpoint answers in AWS's error shape, whatever refused the request.
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && req.url.split('?')[0] === '/')
      return reply
        .status(413)
        .header('content-type', 'text/xml; charset=utf-8')
        .send(encodeError(null, 'RequestEntityTooLarge', 'the request body is larger than 1 MB', randomUUID()));
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.status(413).send({ code: 'InvalidParameterValue', message: 'the request body is too large (64 kB; a topology file: 1 MB)' });
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return reply.status(415).send({ code: 'UnsupportedMediaType', message: `${e.message}: send application/json` });
    if (e.validation || (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)) {
      return reply.status(400).send({ code: 'InvalidParameterValue', message: e.message ?? 'invalid request' });
    }
    app.log.error(err);
    return reply.status(500).send({ code: 'InternalError', message: e.message ?? 'unexpected failure' });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ code: 'NotFound', message: `no API path ${req.method} ${req.url}` });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/v1/status', async (req) => statusFor(deps, contextOf(deps, req)));

  await app.register(async (scope) => awsRoutes(scope, deps));
  await app.register(async (scope) => networkRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => edgeRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => aclRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => flowLogRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => analyzerRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => dataplaneRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => chassisRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => lbRoutes(scope, deps), { prefix: '/v1' });
  await app.register(async (scope) => topologyRoutes(scope, deps), { prefix: '/v1' });
  metricsRoute(app, deps);
  if (deps.sessions) consoleRoutes(app, deps.sessions);
  attachRoute(app, deps);
  return app;
}
