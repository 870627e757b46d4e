// `agora tls` as an operator uses it: a CA and certificates written by the real CLI, checked with
// node:crypto, then used for real — a master serving with the server certificate accepts a client
// presenting the client certificate, and refuses one signed by another CA.
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../core/store/index.js';
import { Master } from '../../master/master.js';
import { runCli, stopCliProcesses, type CliResult } from '../support/cli.js';
import { TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { secureFetch } from '../support/security.js';
import { tempDir } from '../support/tmp.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('cli-tls');
});

afterAll(async () => {
  await stopCliProcesses();
});

function agora(...args: string[]): Promise<CliResult> {
  return runCli(args, { env: { AGORA_CONFIG: path.join(dir, 'config.yaml') } });
}

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

const mode = (file: string): number => statSync(file).mode & 0o777;
const cert = (file: string): X509Certificate => new X509Certificate(readFileSync(file));
const subject = (c: X509Certificate): string[] => c.subject.split('\n');

describe('agora tls', () => {
  it('creates a CA, and refuses to overwrite it unless --force', async () => {
    const cadir = path.join(dir, 'ca-only');
    const made = ok(await agora('tls', 'ca', 'create', '--dir', cadir, '--name', 'E2E CA', '--days', '30'));
    expect(made.stdout).toContain(`wrote ${path.join(cadir, 'ca.pem')}`);
    expect(made.stdout).toContain(`wrote ${path.join(cadir, 'ca-key.pem')}`);
    const ca = cert(path.join(cadir, 'ca.pem'));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=E2E CA');
    expect(ca.checkIssued(ca)).toBe(true);
    expect(Date.parse(ca.validTo) - Date.now()).toBeLessThan(31 * 86_400_000);
    expect(mode(path.join(cadir, 'ca-key.pem'))).toBe(0o600);
    expect(mode(path.join(cadir, 'ca.pem'))).toBe(0o644);

    const before = readFileSync(path.join(cadir, 'ca-key.pem'), 'utf8');
    const again = await agora('tls', 'ca', 'create', '--dir', cadir);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${path.join(cadir, 'ca.pem')} already exists`);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(path.join(cadir, 'ca-key.pem'), 'utf8')).toBe(before);

    ok(await agora('tls', 'ca', 'create', '--dir', cadir, '--force'));
    expect(readFileSync(path.join(cadir, 'ca-key.pem'), 'utf8')).not.toBe(before);
    expect(mode(path.join(cadir, 'ca-key.pem'))).toBe(0o600);
    expect(cert(path.join(cadir, 'ca.pem')).subject).toBe('CN=Agora CA');
  });

  it('creates server, client and dual certificates the CA signed, with the SANs, usages and policies asked for', async () => {
    const d = path.join(dir, 'cluster');
    ok(await agora('tls', 'ca', 'create', '--dir', d));
    const ca = cert(path.join(d, 'ca.pem'));

    const server = ok(await agora('tls', 'cert', 'create', '--server', '--name', 'master', '--host', '127.0.0.1', '--host', 'localhost', '--host', 'master.example', '--dir', d));
    expect(server.stdout).toContain(`wrote ${path.join(d, 'master.pem')} (server; for 127.0.0.1, localhost, master.example)`);
    const s = cert(path.join(d, 'master.pem'));
    expect(s.checkIssued(ca) && s.verify(ca.publicKey)).toBe(true);
    expect(s.issuer).toBe(ca.subject);
    expect(s.ca).toBe(false);
    expect(s.subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'DNS:master.example', 'IP Address:127.0.0.1']);
    expect(s.keyUsage).toEqual([SERVER_AUTH]);
    expect(mode(path.join(d, 'master-key.pem'))).toBe(0o600);

    ok(await agora('tls', 'cert', 'create', '--client', '--name', 'ops', '--policy', 'admin', '--policy', 'viewer', '--dir', d));
    const c = cert(path.join(d, 'ops.pem'));
    expect(c.checkIssued(ca) && c.verify(ca.publicKey)).toBe(true);
    expect(subject(c)).toEqual(['CN=ops', 'OU=admin', 'OU=viewer']);
    expect(c.keyUsage).toEqual([CLIENT_AUTH]);
    expect(c.subjectAltName).toBeUndefined();
    expect(mode(path.join(d, 'ops-key.pem'))).toBe(0o600);

    ok(await agora('tls', 'cert', 'create', '--both', '--name', 'agent-1', '--host', '10.0.0.7', '--policy', 'agent', '--ca', path.join(d, 'ca.pem'), '--ca-key', path.join(d, 'ca-key.pem'), '--dir', path.join(d, 'agents')));
    const b = cert(path.join(d, 'agents', 'agent-1.pem'));
    expect(b.checkIssued(ca) && b.verify(ca.publicKey)).toBe(true);
    expect(subject(b)).toEqual(['CN=agent-1', 'OU=agent']);
    expect(b.keyUsage?.sort()).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(b.subjectAltName).toBe('IP Address:10.0.0.7');

    const overwrite = await agora('tls', 'cert', 'create', '--client', '--name', 'ops', '--dir', d);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toContain(`${path.join(d, 'ops.pem')} already exists`);
    expect(subject(cert(path.join(d, 'ops.pem')))).toEqual(['CN=ops', 'OU=admin', 'OU=viewer']);
  });

  it('names the flag at fault', async () => {
    const d = path.join(dir, 'bad');
    ok(await agora('tls', 'ca', 'create', '--dir', d));
    const cases: [string[], string][] = [
      [['--name', 'x'], '--server: choose exactly one of --server, --client or --both'],
      [['--server', '--client', '--name', 'x', '--host', 'h'], '--server: choose exactly one'],
      [['--server', '--name', 'x'], '--host: a server certificate needs at least one DNS name or IP address'],
      [['--server', '--name', 'x', '--host', 'not a host'], "--host: 'not a host' is neither a DNS name nor an IP address"],
      [['--client', '--name', 'has space'], "--name: 'has space' is not a valid principal name"],
      [['--client', '--name', 'x', '--policy', 'Admin!'], "--policy: 'Admin!' is not a valid policy name"],
      [['--server', '--name', 'x', '--host', 'h', '--policy', 'agent'], '--policy: only client certificates hold policies'],
      [['--client', '--name', 'x', '--days', 'ten'], "--days: expected a positive number of days, got 'ten'"],
      [['--client', '--name', 'x', '--ca', path.join(dir, 'nowhere.pem')], `--ca: cannot read ${path.join(dir, 'nowhere.pem')}: ENOENT`],
      [['--client', '--name', 'x', '--ca-key', path.join(d, 'ca.pem')], '--ca-key: not a PEM PKCS#8 ECDSA P-256 private key'],
    ];
    for (const [args, message] of cases) {
      const r = await agora('tls', 'cert', 'create', '--dir', d, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`error: ${message}`);
    }
    const badCa = await agora('tls', 'ca', 'create', '--dir', path.join(dir, 'bad-ca'), '--name', 'no/slashes');
    expect(badCa.code).toBe(2);
    expect(badCa.stderr).toContain("error: --name: 'no/slashes' is not a valid CA name");
  });
});

describe('certificates made by agora tls, in use', () => {
  let master: Master | undefined;
  let store: Store | undefined;

  afterAll(async () => {
    await master?.stop();
    await store?.close();
  });

  it('a master serving with the server certificate accepts the client certificate and refuses another CA’s', async () => {
    const d = path.join(dir, 'live');
    const other = path.join(dir, 'other');
    ok(await agora('tls', 'ca', 'create', '--dir', d));
    ok(await agora('tls', 'cert', 'create', '--server', '--name', 'master', '--host', '127.0.0.1', '--dir', d));
    ok(await agora('tls', 'cert', 'create', '--client', '--name', 'ops', '--policy', 'admin', '--dir', d));
    ok(await agora('tls', 'ca', 'create', '--dir', other));
    ok(await agora('tls', 'cert', 'create', '--client', '--name', 'intruder', '--policy', 'admin', '--dir', other));
    const read = (file: string): Buffer => readFileSync(file);

    store = await openStore('memory:', { chroot: '/agora' });
    master = await Master.start(TEST_MASTER_OPTIONS, { store, security: { tls: { ca: read(path.join(d, 'ca.pem')), cert: read(path.join(d, 'master.pem')), key: read(path.join(d, 'master-key.pem')) }, tokens: [] } });
    const whoami = `https://127.0.0.1:${master.httpPort}/api/v1/acl/whoami`;
    const ca = read(path.join(d, 'ca.pem'));

    const accepted = await secureFetch(whoami, { token: null, tls: { ca, cert: read(path.join(d, 'ops.pem')), key: read(path.join(d, 'ops-key.pem')) } });
    expect(accepted.status).toBe(200);
    const me = (await accepted.json()) as { principal: string; via: string; grants: { action: string }[] };
    expect(me).toMatchObject({ principal: 'ops', via: 'certificate' });
    expect(me.grants.map((g) => g.action)).toContain('acl.manage');

    const refused = await secureFetch(whoami, { token: null, tls: { ca, cert: read(path.join(other, 'intruder.pem')), key: read(path.join(other, 'intruder-key.pem')) } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { message: string }).message).toContain('is not signed by this cluster');

    // The CLI trusts the server through --ca (and, with no token, gets the helpful 401).
    const cli = await agora('acl', 'whoami', '--master', `https://127.0.0.1:${master.httpPort}`, '--ca', path.join(d, 'ca.pem'));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('did not accept the credentials: no credentials');
    const untrusted = await agora('acl', 'whoami', '--master', `https://127.0.0.1:${master.httpPort}`, '--ca', path.join(other, 'ca.pem'));
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain("the server's certificate is not trusted");
  });
});
