/**
 * Projects: the tenants. A `default` project always exists; each project has a `default`
 * security group, made with it.
 */
import { NimbusError } from '../../core/errors.js';
import { looksLikeId, newId } from '../../core/ids.js';
import type { Project, ProjectInput } from '../../core/model/index.js';
import { checkName, dependencyViolation, notFound, now, saveDelete, saveNew, write, type Ctx } from '../context.js';
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

export function listProjects(store: Store): Project[] {
  return store.list<Project>('project');
}

/** Creates a project with its default security group. `ctx.projectId` is ignored. */
export function createProject(ctx: Ctx, input: ProjectInput): Project {
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
  return write(ctx, () => {
    const project = findProject(ctx.store, ref);
    if (project.name === 'default') throw new NimbusError('CannotDelete', "project 'default' cannot be deleted");
    const vpcs = ctx.store.list<{ id: string; name: string }>('vpc', { projectId: project.id });
    if (vpcs.length > 0) throw dependencyViolation(`project '${project.name}'`, vpcs);
    // With no VPCs left, its peerings are all records of deleted or rejected ones.
    for (const p of ctx.store.list<{ id: string }>('peering', { projectId: project.id })) ctx.store.delete(p.id);
    for (const sg of ctx.store.list<{ id: string }>('securityGroup', { projectId: project.id })) ctx.store.delete(sg.id);
    saveDelete(ctx, 'project', project);
    return project;
  });
}
