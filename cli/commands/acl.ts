// `agora acl`: who you are, what can be granted, and the master's tokens (master/http/acl.ts).
// Policies are in acl-policies.ts.
//
//   acl whoami                      the principal the credentials stand for, and its grants
//   acl actions                     the catalogue of permissions a policy can grant
//   acl token create --principal P --policy X [--policy Y] [--description D] [--ttl 24h]
//   acl token list | revoke ACCESSOR
//
// A new token is printed once, alone on stdout (so `TOKEN=$(agora acl token create …)` works);
// its accessor and details go to stderr, or all of it to stdout with -o json|yaml.
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../core/errors.js';
import { parseDuration } from '../../core/options.js';
import { parseToken, validateAccessor } from '../../core/security/tokens.js';
import { withClientFlags } from '../client.js';
import { age, table, type Cell } from '../table.js';
import { registerPolicyCommands } from './acl-policies.js';
import { fields, section } from './describe-format.js';
import { clientFor, printStructured, structured } from './shared.js';

interface GrantJson {
  action: string;
  objects: string[] | null;
}

interface WhoamiJson {
  principal: string;
  via: string;
  accessor?: string;
  grants: GrantJson[];
}

export interface TokenJson {
  accessor: string;
  principal: string;
  policies: string[];
  description: string;
  createdAtMs: number;
  expiresAtMs?: number;
  createdBy: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerAclCommand(program: Command): void {
  const acl = program.command('acl').description("tokens, policies and who you are (the master's access control)");

  const whoami = withClientFlags(acl.command('whoami').description('show the principal your credentials stand for, and what it may do').option('-o, --output <format>', 'json or yaml'));
  whoami.action(async (flags: { output?: string }) => {
    const format = structured(flags.output);
    const me = await clientFor(whoami).master<WhoamiJson>('/api/v1/acl/whoami');
    if (format) return printStructured(format, me);
    const via = me.accessor ? `${me.via} (accessor ${me.accessor})` : me.via;
    process.stdout.write(fields([['Principal', me.principal], ['Via', via]]) + section('Grants', ['action', 'objects'], me.grants.map((g) => [g.action, objectsText(g.objects)])));
  });

  const actions = withClientFlags(acl.command('actions').description('list the permissions a policy can grant').option('-o, --output <format>', 'json or yaml'));
  actions.action(async (flags: { output?: string }) => {
    const format = structured(flags.output);
    const res = await clientFor(actions).master<{ actions: { action: string; objects: string; doc: string }[] }>('/api/v1/acl/actions');
    if (format) return printStructured(format, res.actions);
    process.stdout.write(table(['action', 'objects', 'description'], res.actions.map((a) => [a.action, a.objects === 'none' ? '-' : a.objects, a.doc])));
  });

  registerTokenCommands(acl.command('token').description('create, list and revoke bearer tokens'));
  registerPolicyCommands(acl.command('policy').description('write, read and delete policies'));
}

function registerTokenCommands(token: Command): void {
  const create = withClientFlags(
    token
      .command('create')
      .description('create a token for a principal holding these policies; it is printed once')
      .requiredOption('--principal <name>', 'who the token stands for (a user, a team, a service)')
      .requiredOption('--policy <name>', 'a policy the principal holds (repeat for more)', collect)
      .option('--description <text>', 'what the token is for')
      .option('--ttl <duration>', 'expire after this long (e.g. 24h, 30d); default: never')
      .option('-o, --output <format>', 'json or yaml: the token and its details on stdout'),
  );
  create.action(async (flags: { principal: string; policy: string[]; description?: string; ttl?: string; output?: string }) => {
    const format = structured(flags.output);
    const ttlMs = flags.ttl === undefined ? undefined : parseDuration(flags.ttl, '--ttl');
    if (ttlMs !== undefined && ttlMs <= 0) throw new InvalidArgumentError('--ttl', 'must be longer than 0');
    const body = { principal: flags.principal, policies: flags.policy, description: flags.description ?? '', ...(ttlMs === undefined ? {} : { ttlSeconds: ttlMs / 1000 }) };
    const created = await clientFor(create).master<TokenJson & { token: string }>('/api/v1/acl/tokens', { method: 'POST', body });
    if (format) return printStructured(format, created);
    process.stdout.write(`${created.token}\n`);
    const expires = created.expiresAtMs === undefined ? 'never expires' : `expires ${new Date(created.expiresAtMs).toISOString()}`;
    process.stderr.write(`token ${created.accessor} created for principal ${created.principal} (policies ${created.policies.join(', ')}; ${expires}).\nIt is shown only this once: store it now (e.g. in a file for \`agora config set-context --token-file\`).\n`);
  });

  const list = withClientFlags(token.command('list').description('list tokens (never their secrets)').option('-o, --output <format>', 'json or yaml'));
  list.action(async (flags: { output?: string }) => {
    const format = structured(flags.output);
    const { tokens } = await clientFor(list).master<{ tokens: TokenJson[] }>('/api/v1/acl/tokens');
    if (format) return printStructured(format, tokens);
    process.stdout.write(tokens.length === 0 ? 'No tokens found.\n' : tokensTable(tokens));
  });

  const revoke = withClientFlags(token.command('revoke').description('revoke a token at once, by its accessor').argument('<accessor>', "the token's accessor (16 hex digits; see `agora acl token list`)"));
  revoke.action(async (accessorText: string) => {
    const accessor = accessorOf(accessorText);
    await clientFor(revoke).master(`/api/v1/acl/tokens/${accessor}`, { method: 'DELETE' });
    process.stdout.write(`token ${accessor} revoked\n`);
  });
}

/** The accessor to revoke. Given a whole token, say so without echoing its secret. */
function accessorOf(text: string): string {
  const parsed = parseToken(text);
  if (parsed) throw new InvalidArgumentError('ACCESSOR', `that is a whole token, secret included; revoke it by its accessor: agora acl token revoke ${parsed.accessor}`);
  if (text.trim().startsWith('agora_')) throw new InvalidArgumentError('ACCESSOR', 'that looks like a token, not an accessor (16 hex digits; see `agora acl token list`)');
  return validateAccessor(text.trim(), 'ACCESSOR');
}

export function tokensTable(tokens: readonly TokenJson[], now = Date.now()): string {
  return table(
    ['accessor', 'principal', 'policies', 'description', 'created', 'expires'],
    tokens.map((t): Cell[] => [t.accessor, t.principal, t.policies.join(','), t.description, `${age(t.createdAtMs, now)} ago`, expiresText(t.expiresAtMs, now)]),
  );
}

function expiresText(at: number | undefined, now: number): string {
  if (at === undefined) return 'never';
  if (at <= now) return 'expired';
  return `in ${age(now, at)}`; // age(from, to): the time from now until `at`
}

function objectsText(objects: string[] | null): string {
  return objects === null ? '*' : objects.join(', ');
}
