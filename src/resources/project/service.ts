/**
 * Projects: the tenants. A `default` project always exists; each project has a `default`
 * security group, made with it.
 */
import { NimbusError } from '../../core/errors.js';
import { looksLikeId, newId } from '../../core/ids.js';
import type { Project, ProjectInput, ProjectUpdate } from '../../core/model/index.js';
import { checkName, dependencyViolation, notFound, now, requireAdmin, saveDelete, saveNew, saveUpdate, write, type Ctx } from '../context.js';
import type { Store } from '../../store/db.js';
import { createDefaultGroup } from '../security-group/service.js';

export function findProject(store: Store, ref: string): Project {
  if (looksLikeId('project', ref)) {
    const p = store.get<Project>(ref, 'project');
    if (p) return p;
  }
  const p = store.list<Project>('project').find((x) => x.name === ref);
  if (!p) throw notFound('project', ref);
  return p;
}

/** Every project (admin), or the caller's own (a project token sees no other). */
export function listProjects(ctx: Ctx): Project[] {
  const all = ctx.store.list<Project>('project');
  return ctx.admin ? all : all.filter((p) => p.id === ctx.projectId);
}

/** A project by name or id: any for an admin, the caller's own for a project token (others look unknown). */
export function getProject(ctx: Ctx, ref: string): Project {
  const p = findProject(ctx.store, ref);
  if (!ctx.admin && p.id !== ctx.projectId) throw notFound('project', ref);
  return p;
}

/** Sets a project's quotas (admin): the numbers given replace the defaults for those kinds. */
export function updateProject(ctx: Ctx, ref: string, input: ProjectUpdate): Project {
  requireAdmin(ctx, 'changing quotas');
  return write(ctx, () => {
    const p = findProject(ctx.store, ref);
    if (input.quotas) p.quotas = { ...(p.quotas ?? {}), ...input.quotas };
    return saveUpdate(ctx, 'project', p);
  });
}

/** Creates a project with its default security group. `ctx.projectId` is ignored. */
export function createProject(ctx: Ctx, input: ProjectInput): Project {
  requireAdmin(ctx, 'creating projects');
  return write(ctx, () => {
    const id = newId('project');
    const projectCtx = { ...ctx, projectId: id };
    const name = checkName(projectCtx, 'project', input.name);
    if (ctx.store.list<Project>('project').some((p) => p.name === name)) {
      throw new NimbusError('NameInUse', `project name '${name}' is already used`);
    }
    const project: Project = { id, name, createdAt: now() };
    saveNew(ctx, 'project', project);
    createDefaultGroup(projectCtx);
    return project;
  });
}

/** Makes sure the `default` project exists (first start, or a store from before). */
export function ensureDefaultProject(ctx: Ctx): Project {
  const existing = ctx.store.list<Project>('project').find((p) => p.name === 'default');
  return existing ?? createProject(ctx, { name: 'default' });
}

export function deleteProject(ctx: Ctx, ref: string): Project {
  requireAdmin(ctx, 'deleting projects');
  return write(ctx, () => {
    const project = findProject(ctx.store, ref);
    if (project.name === 'default') throw new NimbusError('CannotDelete', "project 'default' cannot be deleted");
    const vpcs = ctx.store.list<{ id: string; name: string }>('vpc', { projectId: project.id });
    if (vpcs.length > 0) throw dependencyViolation(`project '${project.name}'`, vpcs);
    // With no VPCs left, its peerings are all records of deleted or rejected ones.
    for (const p of ctx.store.list<{ id: string }>('peering', { projectId: project.id })) ctx.store.delete(p.id);
    for (const sg of ctx.store.list<{ id: string }>('securityGroup', { projectId: project.id })) ctx.store.delete(sg.id);
    for (const t of ctx.store.list<{ id: string }>('topology', { projectId: project.id })) ctx.store.delete(t.id);
    // With no VPCs left, its internet gateways are detached and its elastic IPs unmapped: they go with it.
    for (const kind of ['internetGateway', 'elasticIp'] as const) {
      for (const r of ctx.store.list<{ id: string }>(kind, { projectId: project.id })) saveDelete(ctx, kind, r);
    }
    // AWS target groups (records until a listener binds them; with no VPC, none is bound).
    for (const t of ctx.store.list<{ id: string }>('targetGroup', { projectId: project.id })) ctx.store.delete(t.id);
    // Its tokens (and so their AWS keys and console sessions) end in the same transaction.
    for (const t of ctx.store.list<{ id: string; projectId: string }>('token')) if (t.projectId === project.id) ctx.store.delete(t.id);
    saveDelete(ctx, 'project', project);
    return project;
  });
}
