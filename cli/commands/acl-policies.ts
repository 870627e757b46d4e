// `agora acl policy apply|list|get|delete`: the master's policies (core/security/policy.ts has the
// format). `apply -f` takes a file (YAML or JSON, several documents separated by ---), a directory
// (every .yaml, .yml and .json in it, in name order) or `-` (standard input). Every document is
// checked before the first is sent, so a typo in one file applies nothing; `get` prints a document
// `apply -f` takes back.
import type { Command } from 'commander';
import { AgoraError, InvalidArgumentError } from '../../core/errors.js';
import { ACTION_NAMES } from '../../core/security/actions.js';
import { parsePolicy, validatePolicyName, type Policy } from '../../core/security/policy.js';
import { withClientFlags, type AgoraClient } from '../client.js';
import { FileInputError } from '../errors.js';
import { table } from '../table.js';
import { clientFor, printStructured, structured } from './shared.js';
import { readDocuments } from './spec-files.js';

type PolicyJson = Policy & { builtIn: boolean };

export function registerPolicyCommands(policy: Command): void {
  const apply = withClientFlags(
    policy
      .command('apply')
      .description('create or replace policies from a file, a directory of them, or standard input')
      .requiredOption('-f, --file <path>', 'a policy file (YAML or JSON), a directory of them, or - for standard input'),
  );
  apply.action(async (flags: { file: string }) => {
    const policies = await readPolicies(flags.file);
    const client = clientFor(apply);
    for (const { origin, policy: p } of policies) {
      const res = await put(client, origin, p);
      process.stdout.write(`policy/${p.name} ${res.status === 201 ? 'created' : 'configured'}\n`);
    }
  });

  const list = withClientFlags(policy.command('list').description('list the built-in and stored policies').option('-o, --output <format>', 'json or yaml'));
  list.action(async (flags: { output?: string }) => {
    const format = structured(flags.output);
    const { policies } = await clientFor(list).master<{ policies: PolicyJson[] }>('/api/v1/acl/policies');
    if (format) return printStructured(format, policies);
    process.stdout.write(policiesTable(policies));
  });

  const get = withClientFlags(
    policy
      .command('get')
      .description('print a policy as a document `policy apply -f` takes back')
      .argument('<name>', 'the policy')
      .option('-o, --output <format>', 'yaml (default) or json'),
  );
  get.action(async (name: string, flags: { output?: string }) => {
    const format = structured(flags.output) ?? 'yaml';
    const found = await clientFor(get).master<PolicyJson>(`/api/v1/acl/policies/${encodeURIComponent(validatePolicyName(name, 'NAME'))}`);
    printStructured(format, policyDocument(found));
  });

  const del = withClientFlags(policy.command('delete').description('delete a stored policy (built-in ones cannot be)').argument('<name>', 'the policy'));
  del.action(async (name: string) => {
    await clientFor(del).master(`/api/v1/acl/policies/${encodeURIComponent(validatePolicyName(name, 'NAME'))}`, { method: 'DELETE' });
    process.stdout.write(`policy/${name} deleted\n`);
  });
}

/** The document form of a policy: what `apply -f` reads. */
export function policyDocument(p: Policy): { kind: 'Policy'; name: string; description: string; rules: Policy['rules'] } {
  return { kind: 'Policy', name: p.name, description: p.description, rules: p.rules };
}

export function policiesTable(policies: readonly PolicyJson[]): string {
  return table(
    ['name', 'type', 'allows', 'description'],
    policies.map((p) => [p.name, p.builtIn ? 'built-in' : 'stored', allowsText(p), p.description]),
  );
}

/** The actions a policy grants, or `(every action)` rather than all sixteen names. */
function allowsText(p: Policy): string {
  const actions = new Set(p.rules.filter((r) => !r.roles && !r.users && !r.kinds && !r.secrets).flatMap((r) => r.allow));
  if (ACTION_NAMES.every((a) => actions.has(a))) return '(every action)';
  return [...new Set(p.rules.flatMap((r) => r.allow))].join(',');
}

async function put(client: AgoraClient, origin: string, policy: Policy): Promise<{ status: number }> {
  try {
    return await client.masterCall(`/api/v1/acl/policies/${encodeURIComponent(policy.name)}`, { method: 'PUT', body: policyDocument(policy) });
  } catch (err) {
    // The master's refusal, with its code and field, prefixed by the file it came from.
    if (err instanceof AgoraError && err.code !== 'AGORA_UNAUTHENTICATED') {
      throw new AgoraError(err.code, `${origin}: ${err.message}`, { cause: err, details: err.details, ...(err.field === undefined ? {} : { field: err.field }) });
    }
    throw err;
  }
}

/** Every policy document of the source, parsed and checked. */
export async function readPolicies(source: string): Promise<{ origin: string; policy: Policy }[]> {
  return (await readDocuments(source, 'policy')).map((d) => ({ origin: d.origin, policy: checked(d.value, d.origin, d.where) }));
}

function checked(value: unknown, origin: string, where: string): Policy {
  try {
    return parsePolicy(value);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError) || err.field === undefined) throw err;
    // parsePolicy names fields from `policy.`; in a file, the path inside the document reads better.
    const field = err.field.replace(/^policy\.?/, '') || '(document)';
    const message = err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
    throw new FileInputError(origin, `${where}${field}`, message);
  }
}
