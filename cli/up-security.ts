// `agora up` is secured with one command: on first start it makes, in its data directory, what a
// real deployment makes with `agora tls` and `agora acl` — and reuses it on later starts.
//
//   <data-dir>/admin-token            the first operator's token (0600); the CLI finds it
//   <data-dir>/tls/ca.pem ca-key.pem  the cluster CA                     (tls/ is 0700, keys 0600)
//   <data-dir>/tls/server.pem …       the master's certificate (the Jobs API is on its ports)
//   <data-dir>/tls/agent.pem …        the agent's certificate (OU agent)
//   <data-dir>/tls/frameworks-token   the built-in frameworks' token (principal agora-frameworks)
//   <data-dir>/secrets-key            the key Secrets are sealed with in the store (0600; also
//                                     made with --insecure: secrets are encrypted at rest regardless)
//
// The certificates cover --hostname, 127.0.0.1, localhost and ::1; a later start with another
// hostname gets new ones from the same CA.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createCa, createCertificate, subjectAltNames, type PemPair } from '../core/security/pki.js';
import type { ServerTls } from '../core/security/tls.js';
import { newToken, parseToken } from '../core/security/tokens.js';
import { SecretKey } from '../core/security/secret-box.js';

export const FRAMEWORKS_PRINCIPAL = 'agora-frameworks';

export interface UpSecurity {
  readonly adminToken: string;
  readonly frameworksToken: string;
  readonly masterTls: ServerTls;
  readonly agentTls: ServerTls;
  readonly files: { readonly adminToken: string; readonly ca: string };
}

export async function bootstrapUpSecurity(dataDir: string, hostname: string): Promise<UpSecurity> {
  const dir = path.join(dataDir, 'tls');
  await fs.mkdir(dataDir, { recursive: true });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  const hosts = [...new Set([hostname, '127.0.0.1', 'localhost', '::1'])];
  const ca = await pair(dir, 'ca', () => createCa({ name: 'Agora up CA' }));
  const covers = (p: PemPair): boolean => hosts.every((h) => subjectAltNames(p.certPem).includes(h));
  const server = await pair(dir, 'server', () => createCertificate({ ca, name: 'master', usage: 'both', hosts }), covers);
  const agent = await pair(dir, 'agent', () => createCertificate({ ca, name: 'agent', usage: 'both', hosts, policies: ['agent'] }), covers);
  const adminToken = await token(path.join(dataDir, 'admin-token'));
  const frameworksToken = await token(path.join(dir, 'frameworks-token'));
  const caPem = Buffer.from(ca.certPem);
  return {
    adminToken,
    frameworksToken,
    masterTls: { ca: caPem, cert: Buffer.from(server.certPem), key: Buffer.from(server.keyPem) },
    agentTls: { ca: caPem, cert: Buffer.from(agent.certPem), key: Buffer.from(agent.keyPem) },
    files: { adminToken: path.join(dataDir, 'admin-token'), ca: path.join(dir, 'ca.pem') },
  };
}

/** `<name>.pem` and `<name>-key.pem` in `dir`: read, or made (and written) when missing or not `ok`. */
async function pair(dir: string, name: string, make: () => Promise<PemPair>, ok: (p: PemPair) => boolean = () => true): Promise<PemPair> {
  const certFile = path.join(dir, `${name}.pem`);
  const keyFile = path.join(dir, `${name}-key.pem`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const existing = { certPem: await fs.readFile(certFile, 'utf8'), keyPem: await fs.readFile(keyFile, 'utf8') };
    if (ok(existing)) return existing;
  }
  const made = await make();
  await fs.writeFile(keyFile, made.keyPem, { mode: 0o600 });
  await fs.chmod(keyFile, 0o600);
  await fs.writeFile(certFile, made.certPem, { mode: 0o644 });
  return made;
}

/** `<data-dir>/secrets-key`: made (32 random bytes, base64, 0600) on the first start; its path. */
export async function upSecretsKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secrets-key');
  await fs.mkdir(dataDir, { recursive: true });
  if (!existsSync(file)) await SecretKey.createFile(file);
  return file;
}

/** A token file: read, or made with mode 0600. */
async function token(file: string): Promise<string> {
  if (existsSync(file)) {
    const text = (await fs.readFile(file, 'utf8')).trim();
    if (parseToken(text)) return text;
    throw new Error(`${file} does not hold an Agora token; remove it to have a new one made`);
  }
  const { token: made } = newToken();
  await fs.writeFile(file, `${made}\n`, { mode: 0o600 });
  await fs.chmod(file, 0o600);
  return made;
}
