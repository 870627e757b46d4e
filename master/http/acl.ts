// Tokens and policies on the operator API (what `agora acl` calls). Everything but whoami and the
// action catalogue needs `acl.manage`. A token's secret is in the answer to its creation only.
//
//   GET    /api/v1/acl/whoami                 the caller: principal, how it authenticated, grants
//   GET    /api/v1/acl/actions                every permission a policy can grant
//   GET    /api/v1/acl/tokens                 tokens (accessor, principal, policies, dates)
//   POST   /api/v1/acl/tokens                 {principal, policies, description?, ttlSeconds?} → 201 {token, …}
//   DELETE /api/v1/acl/tokens/:accessor       revoke
//   GET    /api/v1/acl/policies[/:name]       built-in and stored policies
//   PUT    /api/v1/acl/policies/:name         a policy (YAML or JSON); 201 when new
//   DELETE /api/v1/acl/policies/:name
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '../../core/errors.js';
import type { HttpServer } from '../../core/http.js';
import { MAX_LIFETIME_SECONDS, optionalSeconds } from '../../core/limits.js';
import type { AclStore } from '../../core/security/acl-store.js';
import { principalOf } from '../../core/security/edge.js';
import { describeActions } from '../../core/security/policy.js';
import { requirePermission } from '../../core/security/principal.js';
import { tokenView, validateAccessor } from '../../core/security/tokens.js';
import { parseUserYaml } from '../../core/yaml.js';
import type { OperatorContext } from './context.js';

type Json = Record<string, unknown>;

export function registerAclRoutes(app: HttpServer, ctx: OperatorContext): void {
  const manager = (req: Parameters<typeof principalOf>[0]): { acl: AclStore; principal: string } => {
    const principal = principalOf(req);
    requirePermission(principal, 'acl.manage');
    const acl = ctx.security.acl;
    if (!acl) throw new FailedPreconditionError('security is off (--insecure): there are no tokens or policies');
    return { acl, principal: principal.name };
  };

  app.get('/api/v1/acl/whoami', async (req) => {
    const p = principalOf(req);
    return { principal: p.name, via: p.via, ...(p.accessor ? { accessor: p.accessor } : {}), grants: p.grants.map((g) => ({ action: g.action, objects: g.objects ?? null })) };
  });
  app.get('/api/v1/acl/actions', async (req) => {
    principalOf(req);
    return { actions: describeActions() };
  });

  app.get('/api/v1/acl/tokens', async (req) => ({ tokens: manager(req).acl.tokens().map(tokenView) }));
  app.post('/api/v1/acl/tokens', async (req, reply) => {
    const { acl, principal } = manager(req);
    const body = jsonBody(req.body);
    const policies = body['policies'];
    if (!Array.isArray(policies) || policies.some((p) => typeof p !== 'string')) throw new InvalidArgumentError('policies', 'expected a list of policy names');
    const description = body['description'] ?? '';
    if (typeof description !== 'string') throw new InvalidArgumentError('description', 'must be a string');
    // A token meant to outlive a year should have no TTL (and be revoked when done with).
    const ttl = optionalSeconds(body['ttlSeconds'], 'ttlSeconds', { max: MAX_LIFETIME_SECONDS, positive: true });
    const { token, record } = await acl.createToken({
      principal: body['principal'] as string,
      policies: policies as string[],
      description,
      ...(typeof ttl === 'number' ? { ttlMs: Math.round(ttl * 1000) } : {}),
      createdBy: principal,
      now: ctx.state.now(),
    });
    ctx.state.logger.info({ accessor: record.accessor, principal: record.principal, policies: record.policies, by: principal }, 'token created');
    return reply.status(201).send({ token, ...tokenView(record) });
  });
  app.delete<{ Params: { accessor: string } }>('/api/v1/acl/tokens/:accessor', async (req) => {
    const { acl, principal } = manager(req);
    const record = await acl.revokeToken(validateAccessor(req.params.accessor));
    ctx.state.logger.info({ accessor: record.accessor, principal: record.principal, by: principal }, 'token revoked');
    return { accessor: record.accessor, revoked: true };
  });

  app.get('/api/v1/acl/policies', async (req) => ({ policies: manager(req).acl.policies().map(({ policy, builtIn }) => ({ ...policy, builtIn })) }));
  app.get<{ Params: { name: string } }>('/api/v1/acl/policies/:name', async (req) => {
    const found = manager(req).acl.policies().find((p) => p.policy.name === req.params.name);
    if (!found) throw new NotFoundError('policy', req.params.name);
    return { ...found.policy, builtIn: found.builtIn };
  });
  app.put<{ Params: { name: string } }>('/api/v1/acl/policies/:name', async (req, reply) => {
    const { acl, principal } = manager(req);
    const body = typeof req.body === 'string' ? parseDocument(req.body) : jsonBody(req.body);
    if (body['name'] !== undefined && body['name'] !== req.params.name) throw new InvalidArgumentError('name', `the body names '${String(body['name'])}', the path '${req.params.name}'`);
    const { policy, created } = await acl.putPolicy({ ...body, name: req.params.name });
    ctx.state.logger.info({ policy: policy.name, created, by: principal }, 'policy written');
    return reply.status(created ? 201 : 200).send({ ...policy, builtIn: false });
  });
  app.delete<{ Params: { name: string } }>('/api/v1/acl/policies/:name', async (req) => {
    const { acl, principal } = manager(req);
    await acl.deletePolicy(req.params.name);
    ctx.state.logger.info({ policy: req.params.name, by: principal }, 'policy deleted');
    return { name: req.params.name, deleted: true };
  });
}

function jsonBody(body: unknown): Json {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body === 'string') return parseDocument(body);
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('body', 'must be an object');
  return body as Json;
}

function parseDocument(text: string): Json {
  let value: unknown;
  try {
    value = parseUserYaml(text, 'body');
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError('body', `not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('body', 'must be an object');
  return value as Json;
}
