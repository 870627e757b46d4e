// The CLI against a secured master, as an operator uses it: credentials from --token, from
// $AGORA_TOKEN and from a context of the config file; the 401 that says what to do; tokens made,
// used and revoked; policies applied, read back and refused. The real `agora` runs each time, with
// $AGORA_CONFIG in a temp dir (never ~/.agora).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli, stopCliProcesses, type CliResult } from '../support/cli.js';
import { MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { testPki } from '../support/security.js';
import { tempDir } from '../support/tmp.js';

const TOKEN = /^agora_[0-9a-f]{16}_[0-9a-f]{64}$/;
const CLIENT_VARIABLES = ['AGORA_MASTER', 'AGORA_API', 'AGORA_TOKEN', 'AGORA_CA', 'AGORA_CONTEXT', 'AGORA_CONFIG'];

let h: MasterHarness;
let url: string;
let dir: string;
let noConfig: string;

beforeAll(async () => {
  h = await MasterHarness.start();
  await h.agent({ resources: 'cpus:1;mem:256' });
  url = `https://127.0.0.1:${h.master.httpPort}`;
  dir = await tempDir('cli-acl');
  noConfig = path.join(dir, 'absent', 'config.yaml');
});

afterAll(async () => {
  await stopCliProcesses();
  await stopHarnesses();
});

/** `agora ARGS` with only the variables given (and a config file that does not exist, unless given). */
function agora(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  const clean = Object.fromEntries(CLIENT_VARIABLES.map((v) => [v, undefined]));
  return runCli(args, { env: { ...clean, AGORA_CONFIG: noConfig, ...env }, ...(stdin === undefined ? {} : { stdin }) });
}

/** As the admin, by flags. */
function admin(args: string[], stdin?: string): Promise<CliResult> {
  return agora([...args, '--master', url, '--ca', testPki().files.ca, '--token', testPki().adminToken], {}, stdin);
}

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

describe('agora acl whoami finds its credentials', () => {
  it('from --token, from $AGORA_TOKEN and from a context of the config file', async () => {
    const pki = testPki();
    const byFlag = ok(await admin(['acl', 'whoami']));
    expect(byFlag.stdout).toMatch(/^Principal: +admin$/m);
    expect(byFlag.stdout).toMatch(/^ +acl\.manage +\*$/m);

    const byEnv = ok(await agora(['acl', 'whoami', '-o', 'json'], { AGORA_MASTER: url, AGORA_CA: pki.files.ca, AGORA_TOKEN: pki.adminToken }));
    expect(JSON.parse(byEnv.stdout)).toMatchObject({ principal: 'admin', via: 'token' });

    const config = path.join(dir, 'whoami', 'config.yaml');
    const yaml = ['currentContext: secured', 'contexts:', '  secured:', `    master: ${url}`, `    tokenFile: ${pki.files.adminToken}`, `    ca: ${pki.files.ca}`, ''].join('\n');
    mkdirSync(path.dirname(config), { recursive: true });
    writeFileSync(config, yaml, { mode: 0o600 });
    const byContext = ok(await agora(['acl', 'whoami', '-o', 'yaml'], { AGORA_CONFIG: config }));
    expect(parseYaml(byContext.stdout)).toMatchObject({ principal: 'admin', via: 'token' });

    // The client commands go through the same credentials.
    const agents = ok(await agora(['get', 'agents'], { AGORA_CONFIG: config }));
    expect(agents.stdout).toContain(h.agents[0]?.agentId ?? 'no agent id');
  });

  it('without a token: a non-zero exit and a 401 that says what was sent and how to get a token', async () => {
    const r = await agora(['acl', 'whoami', '--master', url, '--ca', testPki().files.ca]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`127.0.0.1:${h.master.httpPort} did not accept the credentials: no credentials`);
    expect(r.stderr).toContain('sent: no token (none given with --token or $AGORA_TOKEN');
    expect(r.stderr).toContain('agora acl token create --principal NAME --policy POLICY');
    expect(r.stderr).toContain('agora up');
    expect(r.stdout).toBe('');
  });

  it('with a bad token from a context: names the context and the file, never the token', async () => {
    const bogus = path.join(dir, 'bogus-token');
    const wrong = `agora_0123456789abcdef_${'0'.repeat(64)}`;
    writeFileSync(bogus, `${wrong}\n`, { mode: 0o600 });
    const config = path.join(dir, 'bogus.yaml');
    writeFileSync(config, `currentContext: c\ncontexts:\n  c: { master: "${url}", tokenFile: ${bogus}, ca: ${testPki().files.ca} }\n`);
    const r = await agora(['get', 'agents'], { AGORA_CONFIG: config });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the bearer token is not valid');
    expect(r.stderr).toContain(`sent: the token file ${bogus} of context "c"`);
    expect(r.stderr).not.toContain(wrong);
  });

  it('without the CA: says the server is not trusted', async () => {
    const r = await agora(['acl', 'whoami', '--master', url, '--token', testPki().adminToken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the server's certificate is not trusted: give the cluster CA with --ca");
  });
});

describe('agora acl tokens', () => {
  it('creates a token that works at once, lists it, and revokes it at once', async () => {
    const policy = path.join(dir, 'jobs-reader.yaml');
    writeFileSync(policy, 'kind: Policy\nname: jobs-reader\ndescription: read workloads\nrules:\n  - allow: [jobs.read]\n    kinds: [Service, Job]\n');
    expect(ok(await admin(['acl', 'policy', 'apply', '-f', policy])).stdout).toBe('policy/jobs-reader created\n');

    const created = ok(await admin(['acl', 'token', 'create', '--principal', 'ci-bot', '--policy', 'jobs-reader', '--policy', 'agent', '--description', 'e2e bot', '--ttl', '1h']));
    const token = created.stdout.trim();
    expect(created.stdout).toBe(`${token}\n`);
    expect(token).toMatch(TOKEN);
    const accessor = token.split('_')[1] as string;
    expect(created.stderr).toContain(`token ${accessor} created for principal ci-bot (policies jobs-reader, agent;`);

    const me = JSON.parse(ok(await agora(['acl', 'whoami', '-o', 'json', '--master', url, '--ca', testPki().files.ca, '--token', token])).stdout) as { principal: string; accessor: string; grants: { action: string; objects: string[] | null }[] };
    expect(me.principal).toBe('ci-bot');
    expect(me.accessor).toBe(accessor);
    expect(me.grants).toEqual(
      expect.arrayContaining([
        { action: 'jobs.read', objects: ['JOB', 'SERVICE'] },
        { action: 'agents.register', objects: null },
        { action: 'acl.review', objects: null },
      ]),
    );
    expect(me.grants).toHaveLength(3);

    const listed = JSON.parse(ok(await admin(['acl', 'token', 'list', '-o', 'json'])).stdout) as { accessor: string; principal: string; policies: string[]; expiresAtMs?: number; secretHash?: string }[];
    const row = listed.find((t) => t.accessor === accessor);
    expect(row).toMatchObject({ principal: 'ci-bot', policies: ['jobs-reader', 'agent'], description: 'e2e bot' });
    expect(row?.expiresAtMs).toBeGreaterThan(Date.now() + 55 * 60_000);
    expect(row?.expiresAtMs).toBeLessThan(Date.now() + 61 * 60_000);
    expect(row?.secretHash).toBeUndefined();
    const table = ok(await admin(['acl', 'token', 'list'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^ACCESSOR +PRINCIPAL +POLICIES +DESCRIPTION +CREATED +EXPIRES$/);
    expect(table).toMatch(new RegExp(`^${accessor} +ci-bot +jobs-reader,agent +e2e bot +\\S+ ago +in \\S+$`, 'm'));
    expect(table).not.toContain(token.split('_')[2] as string);

    // Without cluster.view: a 403 naming the permission.
    const denied = await agora(['get', 'agents', '--master', url, '--ca', testPki().files.ca, '--token', token]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("principal 'ci-bot' lacks permission 'cluster.view'");

    expect(ok(await admin(['acl', 'token', 'revoke', accessor])).stdout).toBe(`token ${accessor} revoked\n`);
    const revoked = await agora(['acl', 'whoami', '--master', url, '--ca', testPki().files.ca, '--token', token]);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('did not accept the credentials: the bearer token is not valid');
    const again = await admin(['acl', 'token', 'revoke', accessor]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`token '${accessor}' not found`);
  });

  it('prints the token with its details in -o json, and refuses bad input naming the flag', async () => {
    const created = JSON.parse(ok(await admin(['acl', 'token', 'create', '--principal', 'viewer-1', '--policy', 'viewer', '-o', 'json'])).stdout) as { token: string; accessor: string; principal: string; policies: string[] };
    expect(created.token).toMatch(TOKEN);
    expect(created).toMatchObject({ principal: 'viewer-1', policies: ['viewer'], accessor: created.token.split('_')[1] });

    const ttl = await admin(['acl', 'token', 'create', '--principal', 'p', '--policy', 'viewer', '--ttl', '10']);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toContain('--ttl:');
    const unknown = await admin(['acl', 'token', 'create', '--principal', 'p', '--policy', 'no-such-policy']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no-such-policy');
    const whole = await admin(['acl', 'token', 'revoke', created.token]);
    expect(whole.code).toBe(2);
    expect(whole.stderr).toContain(`agora acl token revoke ${created.accessor}`);
    expect(whole.stderr).not.toContain(created.token);
  });
});

describe('agora acl policies', () => {
  it('round-trips `policy get -o yaml` through `policy apply -f`, from files, a directory and stdin', async () => {
    const pdir = path.join(dir, 'policies');
    mkdirSync(pdir, { recursive: true });
    writeFileSync(path.join(pdir, 'a-team.yaml'), 'kind: Policy\nname: team-a\nrules:\n  - allow: [frameworks.register]\n    roles: [team-a, team-a/*]\n  - allow: [tasks.run_as]\n    users: [app]\n');
    writeFileSync(path.join(pdir, 'b-ops.json'), JSON.stringify({ name: 'ops', description: 'operators', rules: [{ allow: ['agents.drain', 'cluster.view'] }] }));
    writeFileSync(path.join(pdir, 'notes.txt'), 'not a policy');
    expect(ok(await admin(['acl', 'policy', 'apply', '-f', pdir])).stdout).toBe('policy/team-a created\npolicy/ops created\n');

    const got = ok(await admin(['acl', 'policy', 'get', 'team-a', '-o', 'yaml'])).stdout;
    expect(parseYaml(got)).toEqual({ kind: 'Policy', name: 'team-a', description: '', rules: [{ allow: ['frameworks.register'], roles: ['team-a', 'team-a/*'] }, { allow: ['tasks.run_as'], users: ['app'] }] });
    const file = path.join(dir, 'team-a.got.yaml');
    writeFileSync(file, got);
    expect(ok(await admin(['acl', 'policy', 'apply', '-f', file])).stdout).toBe('policy/team-a configured\n');
    expect(ok(await admin(['acl', 'policy', 'get', 'team-a'])).stdout).toBe(got);

    const json = ok(await admin(['acl', 'policy', 'get', 'ops', '-o', 'json'])).stdout;
    expect(ok(await admin(['acl', 'policy', 'apply', '-f', '-'], json)).stdout).toBe('policy/ops configured\n');

    const list = ok(await admin(['acl', 'policy', 'list'])).stdout;
    expect(list).toMatch(/^admin +built-in +\(every action\) +every action on every object$/m);
    expect(list).toMatch(/^ops +stored +agents\.drain,cluster\.view +operators$/m);
    const listed = JSON.parse(ok(await admin(['acl', 'policy', 'list', '-o', 'json'])).stdout) as { name: string; builtIn: boolean }[];
    expect(listed.filter((p) => p.builtIn).map((p) => p.name)).toEqual(['admin', 'agent', 'frameworks', 'viewer']);
    expect(listed.filter((p) => !p.builtIn).map((p) => p.name)).toEqual(expect.arrayContaining(['ops', 'team-a']));

    expect(ok(await admin(['acl', 'policy', 'delete', 'ops'])).stdout).toBe('policy/ops deleted\n');
    const gone = await admin(['acl', 'policy', 'get', 'ops']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("policy 'ops' not found");
  });

  it('refuses a bad policy with exit 2 naming the field, and applies nothing of a bad batch', async () => {
    const bad = await admin(['acl', 'policy', 'apply', '-f', '-'], 'name: fine-1\nrules:\n  - allow: [jobs.read]\n---\nname: broken\nrules:\n  - allow: [jobs.read, no.such.action]\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('standard input: document 2: rules[0].allow[1]: unknown action "no.such.action"');
    const notApplied = await admin(['acl', 'policy', 'get', 'fine-1']);
    expect(notApplied.code).toBe(1);

    const wrongObjects = await admin(['acl', 'policy', 'apply', '-f', '-'], 'name: x\nrules:\n  - allow: [cluster.view]\n    roles: [a]\n');
    expect(wrongObjects.code).toBe(2);
    expect(wrongObjects.stderr).toContain('rules[0].roles');
    const noName = await admin(['acl', 'policy', 'apply', '-f', '-'], 'rules:\n  - allow: [cluster.view]\n');
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('standard input: name:');
  });

  it('refuses to replace or delete a built-in policy', async () => {
    const replace = await admin(['acl', 'policy', 'apply', '-f', '-'], 'name: admin\nrules:\n  - allow: [jobs.read]\n');
    expect(replace.code).toBe(1);
    expect(replace.stderr).toContain("policy 'admin' is built in and cannot be replaced");
    const del = await admin(['acl', 'policy', 'delete', 'viewer']);
    expect(del.code).toBe(1);
    expect(del.stderr).toContain("policy 'viewer' is built in and cannot be deleted");
    expect(ok(await admin(['acl', 'policy', 'get', 'viewer', '-o', 'json'])).stdout).toContain('"cluster.view"');
  });
});

describe('agora config', () => {
  it('writes contexts (0600 in a 0700 directory), switches and deletes them, and never prints a token', async () => {
    const pki = testPki();
    const config = path.join(dir, 'cfg', 'agora', 'config.yaml');
    const env = { AGORA_CONFIG: config };
    const set = ok(await agora(['config', 'set-context', 'secured', '--master', url, '--token-file', pki.files.adminToken, '--ca', pki.files.ca], env));
    expect(set.stdout).toBe(`Context "secured" created in ${config}. It is the current context.\n`);
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(config)).mode & 0o777).toBe(0o700);
    expect(ok(await agora(['config', 'current-context'], env)).stdout).toBe('secured\n');
    expect(JSON.parse(ok(await agora(['acl', 'whoami', '-o', 'json'], env)).stdout)).toMatchObject({ principal: 'admin' });

    // A context with the token in the file itself, and a comment: both survive later edits.
    const inline = `  inline:\n    master: ${url}\n    token: ${pki.adminToken}\n    ca: ${pki.files.ca}\n`;
    writeFileSync(config, `# my clusters\n${readFileSync(config, 'utf8').replace('contexts:\n', `contexts:\n${inline}`)}`);
    ok(await agora(['config', 'set-context', 'dev', '--master', 'dev.example:5050', '--insecure'], env));
    const text = readFileSync(config, 'utf8');
    expect(text).toContain('# my clusters');
    expect(parseYaml(text)).toMatchObject({ currentContext: 'secured', contexts: { secured: { master: url }, inline: { token: pki.adminToken }, dev: { master: 'dev.example:5050', insecure: true } } });
    expect(statSync(config).mode & 0o777).toBe(0o600);

    const table = ok(await agora(['config', 'get-contexts'], env)).stdout;
    expect(table.split('\n')[0]).toMatch(/^CURRENT +NAME +MASTER +API +TOKEN +CA$/);
    expect(table).toMatch(new RegExp(`^\\* +secured +${url.replace(/\./g, '\\.')} +<none> +${pki.files.adminToken} +`, 'm'));
    expect(table).toMatch(/^ +inline +\S+ +<none> +\(token\) +/m);
    expect(table).toMatch(/^ +dev +dev\.example:5050 +<none> +\(insecure\) +<none>$/m);
    for (const format of ['json', 'yaml']) {
      const out = ok(await agora(['config', 'get-contexts', '-o', format], env)).stdout;
      expect(out).toContain('(token)');
      expect(out).not.toContain(pki.adminToken);
    }
    expect(table).not.toContain(pki.adminToken);

    expect(ok(await agora(['config', 'use-context', 'inline'], env)).stdout).toBe('Switched to context "inline".\n');
    expect(JSON.parse(ok(await agora(['acl', 'whoami', '-o', 'json'], env)).stdout)).toMatchObject({ principal: 'admin' });
    const unknown = await agora(['config', 'use-context', 'nope'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("context 'nope' not found");

    ok(await agora(['config', 'delete-context', 'inline'], env));
    const after = parseYaml(readFileSync(config, 'utf8')) as { currentContext?: string; contexts: Record<string, unknown> };
    expect(Object.keys(after.contexts).sort()).toEqual(['dev', 'secured']);
    expect(after.currentContext).toBeUndefined();
    expect((await agora(['config', 'current-context'], env)).code).toBe(1);
    // --context picks one without changing the file.
    expect(JSON.parse(ok(await agora(['acl', 'whoami', '-o', 'json', '--context', 'secured'], env)).stdout)).toMatchObject({ principal: 'admin' });
  });

  it('names the file and the field of a bad config file (exit 2), and refuses to rewrite it', async () => {
    const config = path.join(dir, 'bad-config.yaml');
    writeFileSync(config, `currentContext: a\ncontexts:\n  a:\n    master: ${url}\n    tokenFile: /x\n    insecur: true\n`);
    const r = await agora(['get', 'agents'], { AGORA_CONFIG: config });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${config}: contexts.a.insecur: unknown field`);
    const set = await agora(['config', 'set-context', 'b', '--master', url], { AGORA_CONFIG: config });
    expect(set.code).toBe(2);
    expect(readFileSync(config, 'utf8')).toContain('insecur: true');
    const missing = await agora(['config', 'set-context', 'c', '--ca', '/x'], { AGORA_CONFIG: path.join(dir, 'fresh.yaml') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--master: is required for a new context');
  });
});
