/**
 * The AWS-compatible endpoint: `POST /` with a form-encoded body (EC2 2016-11-15, ELBv2
 * 2015-12-01), as `aws --endpoint-url http://127.0.0.1:7700` and the SDKs send it. The
 * service is picked by the Version parameter, or the SigV4 credential scope; every request
 * must be signed with a key of `nimbus credentials aws` (an AWS account is a Nimbus project).
 * The models in src/aws/models decode the input and encode the output; the handlers map
 * AWS shapes to Nimbus services; errors carry the catalogue's codes in AWS's error shapes.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from './context.js';
import { NimbusError } from '../core/errors.js';
import { AWS_CODE, AwsError, decodeInput, encodeError, encodeOutput, paginate, ParamError, type Model } from '../aws/codec.js';
import { parseAuthorization, SignatureError, verify } from '../aws/sigv4.js';
import { awsPrincipal } from '../resources/token/service.js';
import { write, type Ctx } from '../resources/context.js';
import type { Handler } from '../aws/kit.js';

interface Service {
  model: Model;
  handlers: Record<string, Handler>;
  /** The code for an operation this endpoint does not serve. */
  unknown: string;
}

const load = (name: string): Model => JSON.parse(readFileSync(new URL(`../aws/models/${name}.json`, import.meta.url), 'utf8')) as Model;

type Which = 'ec2' | 'elbv2' | 'sts' | 'iam';
let services: Record<Which, Service> | null = null;

/** The models and handlers, loaded on the first AWS request (the daemon's start does not pay for them). */
async function servicesNow(): Promise<Record<Which, Service>> {
  if (services) return services;
  const { EC2 } = await import('../aws/ec2/index.js');
  const { ELBV2 } = await import('../aws/elbv2/index.js');
  const { STS, IAM } = await import('../aws/identity.js');
  services = {
    ec2: { model: load('ec2'), handlers: EC2, unknown: 'InvalidAction' },
    elbv2: { model: load('elbv2'), handlers: ELBV2, unknown: 'UnknownOperationException' },
    sts: { model: load('sts'), handlers: STS, unknown: 'InvalidAction' },
    iam: { model: load('iam'), handlers: IAM, unknown: 'InvalidAction' },
  };
  return services;
}

/** Each service by its API version, or by the service its signature is scoped to. */
const VERSIONS: Record<string, Which> = { '2016-11-15': 'ec2', '2015-12-01': 'elbv2', '2011-06-15': 'sts', '2010-05-08': 'iam' };
const SCOPES: Record<string, Which> = { ec2: 'ec2', elasticloadbalancing: 'elbv2', sts: 'sts', iam: 'iam' };

function pick(version: string | undefined, scopeService: string | undefined): Which | null {
  if (version && Object.hasOwn(VERSIONS, version)) return VERSIONS[version];
  if (scopeService && Object.hasOwn(SCOPES, scopeService)) return SCOPES[scopeService];
  return null;
}

/** AWS answers client errors with 400, a bad signature with 401/403, its own failures with 500. */
function httpStatus(code: string, nimbusStatus: number): number {
  if (code === 'AuthFailure' || code === 'SignatureDoesNotMatch' || code === 'InvalidClientTokenId') return code === 'AuthFailure' ? 401 : 403;
  return nimbusStatus >= 500 ? 500 : 400;
}

export function awsRoutes(app: FastifyInstance, deps: AppDeps): void {
  // The raw body is kept: the signature covers its hash.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  // Not in the OpenAPI document: it is AWS's API, documented by AWS's models and docs/aws.md.
  // ACM speaks JSON 1.1 (X-Amz-Target names the operation).
  app.addContentTypeParser('application/x-amz-json-1.1', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/', { schema: { hide: true } }, async (req, reply) => {
    const requestId = randomUUID();
    const raw = typeof req.body === 'string' ? req.body : '';
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('CertificateManager.'))
      return acmRequest(deps, req, reply, raw, target.slice('CertificateManager.'.length), requestId);
    const params = new Map<string, string>();
    const q = req.url.indexOf('?');
    for (const [k, v] of new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1))) params.set(k, v);
    for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
    const cred = parseAuthorization(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
    const which = pick(params.get('Version'), cred?.service);
    const all = await servicesNow();
    const svc = which ? all[which] : null;
    const fail = (code: string, message: string, status: number) => send(reply, status, encodeError(svc?.model ?? null, code, message, requestId));
    try {
      if (!cred) return fail('AuthFailure', 'the request is not signed with AWS Signature Version 4: use the keys of `nimbus credentials aws`', 401);
      if (!svc)
        return fail(
          'InvalidParameterValue',
          `Version '${params.get('Version') ?? ''}': this endpoint serves EC2 2016-11-15, ELBv2 2015-12-01, STS 2011-06-15 and IAM 2010-05-08`,
          400,
        );
      const key = awsPrincipal(deps.store, cred.accessKeyId);
      if (!key)
        return fail(
          which === 'ec2' ? 'AuthFailure' : 'InvalidClientTokenId',
          `the access key id '${cred.accessKeyId}' is not known to this daemon (nimbus credentials aws)`,
          401,
        );
      verify({ method: req.method, url: req.url, headers: req.headers, body: raw }, cred, key.secret);
      const action = params.get('Action') ?? '';
      const handler = Object.hasOwn(svc.handlers, action) ? svc.handlers[action] : undefined;
      if (!handler || !svc.model.operations[action]) {
        return fail(
          svc.unknown,
          `The action ${action || '(none)'} is not valid for this web service${action ? ': Nimbus does not serve it (docs/aws.md lists what it does)' : ''}`,
          400,
        );
      }
      const ctx: Ctx = {
        store: deps.store,
        feed: deps.feed,
        projectId: key.principal.projectId,
        admin: key.principal.admin,
        workloadBase: deps.workloadBase,
        // No lbProvisioning: ELBv2 has no immutable states, and one of its calls may make several
        // changes in turn (RegisterTargets); AWS serialises them itself, and so does the reconciler.
      };
      const input = decodeInput(svc.model, action, params);
      if (input.DryRun === true) {
        // As AWS: the call is checked in full (its rules and refusals) and changes nothing.
        try {
          write(ctx, () => {
            handler(ctx, input, cred.region, deps.loadBalancers);
            throw new DryRun();
          });
        } catch (err) {
          if (err instanceof DryRun) return fail('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
          throw err;
        }
      }
      const output = paginate(svc.model, action, input, handler(ctx, input, cred.region, deps.loadBalancers));
      return send(reply, 200, encodeOutput(svc.model, action, output, requestId));
    } catch (err) {
      if (err instanceof SignatureError) return fail(which === 'ec2' ? 'AuthFailure' : 'SignatureDoesNotMatch', err.message, 401);
      if (err instanceof ParamError)
        return fail(err.unknown ? (which === 'ec2' ? 'UnknownParameter' : 'ValidationError') : 'InvalidParameterValue', err.message, 400);
      if (err instanceof AwsError) return fail(err.code, err.message, 400);
      if (err instanceof NimbusError) return fail(AWS_CODE[err.code] ?? err.code, err.message, httpStatus(err.code, err.status));
      req.log.error(err);
      return fail('InternalError', 'Nimbus failed to answer this request; its log has the cause', 500);
    }
  });
}

/** One ACM call (JSON 1.1): signed as any other, answered in JSON with ACM's error shape. */
async function acmRequest(deps: AppDeps, req: FastifyRequest, reply: FastifyReply, raw: string, action: string, requestId: string) {
  const answer = (status: number, body: unknown) =>
    reply.code(status).header('content-type', 'application/x-amz-json-1.1').header('x-amzn-requestid', requestId).send(JSON.stringify(body));
  const cred = parseAuthorization(typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
  if (!cred) return answer(400, { __type: 'MissingAuthenticationTokenException', message: 'the request is not signed with AWS Signature Version 4' });
  const key = awsPrincipal(deps.store, cred.accessKeyId);
  if (!key)
    return answer(400, {
      __type: 'UnrecognizedClientException',
      message: `the access key id '${cred.accessKeyId}' is not known to this daemon (nimbus credentials aws)`,
    });
  try {
    verify({ method: req.method, url: req.url, headers: req.headers, body: raw }, cred, key.secret);
  } catch (err) {
    if (err instanceof SignatureError) return answer(400, { __type: 'InvalidSignatureException', message: err.message });
    throw err;
  }
  const { ACM, acmError } = await import('../aws/acm.js');
  const handler = Object.hasOwn(ACM, action) ? ACM[action] : undefined;
  if (!handler)
    return answer(400, {
      __type: 'UnknownOperationException',
      message: `CertificateManager.${action}: Nimbus does not serve it (docs/aws.md lists what it does)`,
    });
  let input: Record<string, unknown>;
  try {
    input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('not an object');
  } catch {
    return answer(400, { __type: 'SerializationException', message: 'the body is not a JSON object' });
  }
  const ctx: Ctx = { store: deps.store, feed: deps.feed, projectId: key.principal.projectId, admin: key.principal.admin, workloadBase: deps.workloadBase };
  try {
    return answer(200, handler(ctx, input, cred.region));
  } catch (err) {
    const e = acmError(err);
    if (e) return answer(e.status, e.body);
    req.log.error(err);
    return answer(500, { __type: 'InternalFailure', message: 'Nimbus failed to answer this request; its log has the cause' });
  }
}

/** Thrown at the end of a DryRun call so that its transaction rolls back. */
class DryRun extends Error {}

function send(reply: FastifyReply, status: number, xml: string) {
  return reply
    .code(status)
    .header('content-type', 'text/xml; charset=utf-8')
    .header('x-amzn-requestid', /<Request(?:I[dD])>([^<]+)</.exec(xml)?.[1] ?? '')
    .send(xml);
}
