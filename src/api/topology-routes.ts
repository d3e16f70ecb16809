/**
 * Topology files through the API: plan (what would change, nothing changed), apply and
 * destroy (progress as it happens: one JSON line per step, then the outcome), export, and the
 * file's JSON Schema. The CLI reads the file and shows the progress; the console and scripts
 * get the same behaviour.
 *
 * A file with problems is refused before anything changes: 400 `InvalidTopology` with every
 * problem, each with its path, line and code.
 */
import { PassThrough } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { contextOf, PROJECT_HEADER, type AppDeps } from './context.js';
import { TopologyFile, TopologyInput, TopologyPlan, type ElasticIp, type LoadBalancer } from '../core/model/index.js';
import { NimbusError } from '../core/errors.js';
import type { Ctx } from '../resources/context.js';
import type { Step } from '../resources/topology/plan.js';

// Loaded on the first request (YAML, the file's validator): the daemon's start does not pay for them.
const topology = () => import('../resources/topology/apply.js');

/** A topology file may be larger than the 64 kB of other requests. */
const FILE_LIMIT = 1_100_000;

const headers = Type.Object({ [PROJECT_HEADER]: Type.Optional(Type.String({ description: "project name or id; 'default' when absent" })) });
const Problem = Type.Object({ path: Type.String(), line: Type.Union([Type.Integer(), Type.Null()]), code: Type.String(), message: Type.String() });
const Refusal = Type.Object({ code: Type.String(), message: Type.String(), problems: Type.Optional(Type.Array(Problem)) });
const errors = { 400: Refusal, 404: Refusal, 409: Refusal };
const Progress = Type.String({
  description:
    'application/x-ndjson: {"type":"step","step":{action,kind,name,path,why},"done":n,"total":n} per step, then {"type":"done","steps":n,"loadBalancers":[{name,vip,publicIp}],"elasticIps":[{name,publicIp,privateIp}]} or {"type":"error","code","message"}',
});

/** Runs the steps, sending one line per step and the outcome as the answer's body. */
async function stream(ctx: Ctx, reply: FastifyReply, name: string, steps: Step[]): Promise<FastifyReply> {
  const { applyPlan, ownedKeys } = await topology();
  const out = new PassThrough();
  const line = (o: unknown) => out.write(JSON.stringify(o) + '\n');
  void applyPlan(ctx, name, steps, (e) => line({ type: 'step', ...e }))
    .then(() => {
      // This file's load balancers only (none once it is destroyed), not every one of the project.
      const owned = ownedKeys(ctx, name);
      const loadBalancers = ctx.store
        .list<LoadBalancer>('loadBalancer', { projectId: ctx.projectId })
        .filter((lb) => owned.has(`loadBalancer:${lb.name}`))
        .map((lb) => ({ name: lb.name, vip: lb.vip, publicIp: lb.publicIp }));
      const elasticIps = ctx.store
        .list<ElasticIp>('elasticIp', { projectId: ctx.projectId })
        .filter((e) => owned.has(`elasticIp:${e.name}`))
        .map((e) => ({ name: e.name, publicIp: e.publicIp, privateIp: e.privateIp }));
      line({ type: 'done', steps: steps.length, loadBalancers, elasticIps });
    })
    .catch((err: unknown) => {
      const e = err instanceof NimbusError ? err : new NimbusError('InternalError', String(err));
      line({ type: 'error', code: e.code, message: e.message });
    })
    .finally(() => out.end());
  return reply.type('application/x-ndjson; charset=utf-8').send(out);
}

export function topologyRoutes(app: FastifyInstance, deps: AppDeps): void {
  const ctxOf = (req: FastifyRequest) => contextOf(deps, req);
  const input = (req: FastifyRequest) => req.body as TopologyInput;

  app.post(
    '/topology/plan',
    {
      bodyLimit: FILE_LIMIT,
      schema: {
        tags: ['topology'],
        summary: 'What applying a topology file would create, update, replace, delete or adopt, and why; changes nothing',
        headers,
        body: TopologyInput,
        response: { 200: TopologyPlan, ...errors },
      },
    },
    async (req) => {
      const { planFile, planView } = await topology();
      const { name, steps } = planFile(ctxOf(req), input(req).file, input(req).name);
      return planView(name, steps);
    },
  );

  app.post(
    '/topology/apply',
    {
      bodyLimit: FILE_LIMIT,
      schema: {
        tags: ['topology'],
        summary: 'Apply a topology file: its plan, carried out step by step, progress as it happens',
        headers,
        body: TopologyInput,
        response: { 200: Progress, ...errors },
      },
    },
    async (req, reply) => {
      const ctx = ctxOf(req);
      const { planFile } = await topology();
      const { name, steps } = planFile(ctx, input(req).file, input(req).name);
      return stream(ctx, reply, name, steps);
    },
  );

  app.post(
    '/topology/destroy',
    {
      schema: {
        tags: ['topology'],
        summary: 'Delete everything a topology file owns, progress as it happens',
        headers,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
        response: { 200: Progress, ...errors },
      },
    },
    async (req, reply) => {
      const ctx = ctxOf(req);
      const name = (req.body as { name: string }).name;
      const { destroyPlan } = await topology();
      return stream(ctx, reply, name, destroyPlan(ctx, name));
    },
  );

  app.get(
    '/topology/export',
    {
      schema: {
        tags: ['topology'],
        summary: "The project's state as a topology file (JSON; the CLI writes YAML)",
        headers,
        querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 63 })) }, { additionalProperties: false }),
        response: { 200: TopologyFile, ...errors },
      },
    },
    async (req) => (await import('../resources/topology/export.js')).exportTopology(ctxOf(req), (req.query as { name?: string }).name),
  );

  app.get(
    '/topology/files',
    {
      schema: {
        tags: ['topology'],
        summary: 'Names of the topology files that own resources in the project',
        headers,
        response: { 200: Type.Array(Type.String()), ...errors },
      },
    },
    async (req) => (await topology()).topologyNames(ctxOf(req)),
  );

  app.get(
    '/topology/schema',
    {
      schema: {
        tags: ['topology'],
        summary: "The topology file's JSON Schema (for editors)",
        headers,
        response: { 200: Type.Object({}, { additionalProperties: true }) },
      },
    },
    async (_req, reply) =>
      reply
        .type('application/schema+json')
        .serializer((p: unknown) => JSON.stringify(p, null, 2))
        .send(TopologyFile),
  );
}
