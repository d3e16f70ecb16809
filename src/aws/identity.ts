/**
 * STS and IAM, as far as tools need them to learn who they are: STS GetCallerIdentity and
 * IAM GetUser. The caller is the Nimbus project its key belongs to, as an account with one user.
 */
import { findProject } from '../resources/project/service.js';
import { AwsError } from './codec.js';
import { accountId, type Handler } from './kit.js';

const userName = (projectName: string) => `nimbus-${projectName}`.slice(0, 64);

export const STS: Record<string, Handler> = {
  GetCallerIdentity: (ctx) => {
    const project = findProject(ctx.store, ctx.projectId);
    const account = accountId(ctx.projectId);
    return { UserId: `AIDA${account}`, Account: account, Arn: `arn:aws:iam::${account}:user/${userName(project.name)}` };
  },
};

export const IAM: Record<string, Handler> = {
  GetUser: (ctx, input) => {
    const project = findProject(ctx.store, ctx.projectId);
    const account = accountId(ctx.projectId);
    const name = userName(project.name);
    if (input.UserName !== undefined && input.UserName !== name) {
      throw new AwsError('NoSuchEntity', `The user with name ${String(input.UserName)} cannot be found.`);
    }
    return {
      User: { Path: '/', UserName: name, UserId: `AIDA${account}`, Arn: `arn:aws:iam::${account}:user/${name}`, CreateDate: new Date(project.createdAt) },
    };
  },
};
