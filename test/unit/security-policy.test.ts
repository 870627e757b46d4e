// Policies, grants and tokens: the pure half of core/security.
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES } from '../../core/security/actions.js';
import { BUILT_IN_POLICIES, grantsOf, parsePolicy } from '../../core/security/policy.js';
import { may, mergeGrants, requirePermission, runAsObject, type Principal } from '../../core/security/principal.js';
import { hashSecret, newToken, parseToken, secretMatches } from '../../core/security/tokens.js';
import { thrown } from '../support/thrown.js';

const principal = (grants: Principal['grants']): Principal => ({ name: 'alice', via: 'token', grants });

describe('policies', () => {
  it('parse rules with objects, normalising kinds, and grant exactly what they say', () => {
    const policy = parsePolicy({
      kind: 'Policy',
      name: 'team-a',
      rules: [
        { allow: ['frameworks.register'], roles: ['team-a', 'team-a/*'] },
        { allow: 'tasks.run_as', users: ['app'] },
        { allow: ['jobs.read', 'jobs.write'], kinds: ['Service', 'job'] },
        { allow: ['cluster.view'] },
      ],
    });
    const p = principal(grantsOf(policy));
    expect(may(p, 'frameworks.register', 'team-a')).toBe(true);
    expect(may(p, 'frameworks.register', 'team-a/batch')).toBe(true);
    expect(may(p, 'frameworks.register', 'team-ab')).toBe(false);
    expect(may(p, 'frameworks.register', 'prod')).toBe(false);
    expect(may(p, 'tasks.run_as', 'app')).toBe(true);
    expect(may(p, 'tasks.run_as', 'root')).toBe(false);
    expect(may(p, 'jobs.write', 'SERVICE')).toBe(true);
    expect(may(p, 'jobs.write', 'JOB')).toBe(true);
    expect(may(p, 'jobs.write', 'CRONJOB')).toBe(false);
    expect(may(p, 'cluster.view')).toBe(true);
    expect(may(p, 'acl.manage')).toBe(false);
  });

  it('refuse bad documents naming the field', () => {
    const cases: [unknown, string][] = [
      [{ name: 'Bad Name', rules: [{ allow: ['cluster.view'] }] }, 'policy.name'],
      [{ name: 'a', rules: [] }, 'policy.rules'],
      [{ name: 'a', rules: [{ allow: ['cluster.fly'] }] }, 'policy.rules[0].allow[0]'],
      [{ name: 'a', rules: [{ allow: ['cluster.view'], roles: ['x'] }] }, 'policy.rules[0].roles'],
      [{ name: 'a', rules: [{ allow: ['tasks.run_as'], users: ['a*b'] }] }, 'policy.rules[0].users[0]'],
      [{ name: 'a', rules: [{ allow: ['jobs.read'], kinds: ['Pod'] }] }, 'policy.rules[0].kinds[0]'],
      [{ name: 'a', rules: [{ allow: ['jobs.read'], colour: 'red' }] }, 'policy.rules[0].colour'],
      [{ name: 'a', kind: 'Service', rules: [{ allow: ['jobs.read'] }] }, 'policy.kind'],
    ];
    for (const [doc, field] of cases) expect(thrown(() => parsePolicy(doc)).field, JSON.stringify(doc)).toBe(field);
  });

  it('built-in admin grants every action; agent only what an agent needs', () => {
    const admin = principal(grantsOf(BUILT_IN_POLICIES.get('admin')!));
    for (const action of ACTION_NAMES) expect(may(admin, action, 'anything')).toBe(true);
    const agent = principal(grantsOf(BUILT_IN_POLICIES.get('agent')!));
    expect(ACTION_NAMES.filter((a) => may(agent, a, 'x')).sort()).toEqual(['acl.review', 'agents.register']);
  });

  it('a refusal names the principal, the permission and the object', () => {
    const err = thrown(() => requirePermission(principal([{ action: 'tasks.run_as', objects: ['app'] }]), 'tasks.run_as', 'root'));
    expect(err.code).toBe('AGORA_PERMISSION_DENIED');
    expect(err.message).toBe("principal 'alice' lacks permission 'tasks.run_as' on 'root'");
    expect(err.details).toMatchObject({ permission: 'tasks.run_as', object: 'root' });
  });

  it('merging keeps any-object grants and unions object lists', () => {
    expect(mergeGrants([{ action: 'tasks.run_as', objects: ['b'] }, { action: 'tasks.run_as', objects: ['a', 'b'] }, { action: 'jobs.read', objects: ['JOB'] }, { action: 'jobs.read' }])).toEqual([
      { action: 'tasks.run_as', objects: ['a', 'b'] },
      { action: 'jobs.read' },
    ]);
  });

  it('uid 0 is authorised as root, whatever name it is given', () => {
    expect(runAsObject('0')).toBe('root');
    expect(runAsObject('0:0')).toBe('root');
    expect(runAsObject('1000')).toBe('1000');
    expect(runAsObject('nobody')).toBe('nobody');
  });
});

describe('tokens', () => {
  it('are random, parse back, and only their own secret matches the stored hash', () => {
    const a = newToken();
    const b = newToken();
    expect(a.token).not.toBe(b.token);
    expect(a.token).toMatch(/^agora_[0-9a-f]{16}_[0-9a-f]{64}$/);
    const parsed = parseToken(a.token)!;
    expect(parsed.accessor).toBe(a.accessor);
    expect(secretMatches(parsed.secret, a.secretHash)).toBe(true);
    expect(secretMatches(parseToken(b.token)!.secret, a.secretHash)).toBe(false);
    expect(a.secretHash).toBe(hashSecret(parsed.secret));
    expect(a.secretHash).not.toContain(parsed.secret);
    expect(parseToken('agora_nothex_x')).toBeUndefined();
    expect(parseToken(`${a.token}x`)).toBeUndefined();
  });
});
