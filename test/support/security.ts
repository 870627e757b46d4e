// Credentials for tests, from the run's PKI (pki.ts): what each kind of peer presents, and HTTP
// and gRPC clients that present them.
//
//   const pki = testPki();
//   Master.start(flags, { store, security: testMasterSecurity() })     TLS + the run's tokens
//   await adminFetch(url)                                               HTTPS, CA trusted, admin token
//   new SchedulerClient(addr, channel({ token: pki.adminToken }))       gRPC as the admin
//   new AgentGatewayClient(addr, channel({ tls: pki.agentTls }))        gRPC as an agent
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { fetch as undiciFetch, type RequestInit } from 'undici';
import { AclAuthenticator } from '../../core/security/acl-authenticator.js';
import { AclStore } from '../../core/security/acl-store.js';
import type { Authenticator } from '../../core/security/authenticate.js';
import { CertificateVerifier } from '../../core/security/certificates.js';
import { grpcChannelCredentials, httpsDispatcher, type ServerTls, type TlsMaterial } from '../../core/security/tls.js';
import { openStore } from '../../core/store/index.js';
import { httpAuth, type HttpAuth } from '../../frameworks/api/http-client.js';
import type { KnownToken, MasterSecurityDeps } from '../../master/security.js';
import { testServices } from './services.js';

export interface TestPki {
  readonly dir: string;
  /** The cluster CA only: what a client that presents no certificate trusts. */
  readonly clientTls: TlsMaterial;
  /** A master's (and the Jobs API's) certificate for loopback. */
  readonly serverTls: ServerTls;
  /** An agent's certificate (client and server, OU agent). */
  readonly agentTls: ServerTls;
  /** A client certificate holding the admin policy. */
  readonly adminCertTls: TlsMaterial;
  /** A client certificate (OU admin) signed by another CA, trusting ours: must be refused. */
  readonly foreignTls: TlsMaterial;
  readonly adminToken: string;
  readonly frameworksToken: string;
  /** Paths, for flags of processes the tests spawn. */
  readonly files: Readonly<Record<'ca' | 'serverCert' | 'serverKey' | 'agentCert' | 'agentKey' | 'adminToken' | 'frameworksToken' | 'zkCredentials', string>>;
  /** `user:password`: the ZooKeeper digest credentials test masters use. */
  readonly zkCredentials: string;
}

let cached: TestPki | undefined;

export function testPki(): TestPki {
  if (cached) return cached;
  // The variable alone is enough (a benchmark makes its own PKI and sets it); else the test run's.
  const dir = process.env['AGORA_TEST_PKI'] ?? testServices().pki;
  const file = (name: string): string => path.join(dir, name);
  const read = (name: string): Buffer => readFileSync(file(name));
  const ca = read('ca.pem');
  cached = Object.freeze({
    dir,
    clientTls: { ca },
    serverTls: { ca, cert: read('server.pem'), key: read('server-key.pem') },
    agentTls: { ca, cert: read('agent.pem'), key: read('agent-key.pem') },
    adminCertTls: { ca, cert: read('admin.pem'), key: read('admin-key.pem') },
    foreignTls: { ca, cert: read('foreign.pem'), key: read('foreign-key.pem') },
    adminToken: read('admin-token').toString('utf8').trim(),
    frameworksToken: read('frameworks-token').toString('utf8').trim(),
    files: {
      ca: file('ca.pem'),
      serverCert: file('server.pem'),
      serverKey: file('server-key.pem'),
      agentCert: file('agent.pem'),
      agentKey: file('agent-key.pem'),
      adminToken: file('admin-token'),
      frameworksToken: file('frameworks-token'),
      zkCredentials: file('zk-credentials'),
    },
    zkCredentials: read('zk-credentials').toString('utf8').trim(),
  });
  return cached;
}

/** The tokens every test master registers: the admin, and the built-in frameworks' principal. */
export function testTokens(): KnownToken[] {
  const pki = testPki();
  return [
    { token: pki.adminToken, principal: 'admin', policies: ['admin'], description: 'test admin' },
    { token: pki.frameworksToken, principal: 'agora-frameworks', policies: ['frameworks'], description: 'test built-in frameworks' },
  ];
}

/** What Master.start needs to run secured in a test. */
export function testMasterSecurity(): MasterSecurityDeps {
  return { tls: testPki().serverTls, tokens: testTokens() };
}

/** gRPC channel credentials: TLS trusting the test CA (a certificate when `tls` has one), and a token. */
export function channel(options: { tls?: TlsMaterial; token?: string } = {}): grpc.ChannelCredentials {
  return grpcChannelCredentials(options.tls ?? testPki().clientTls, options.token);
}

/** As the admin, with a token. */
export function adminChannel(): grpc.ChannelCredentials {
  return channel({ token: testPki().adminToken });
}

/** As an agent, with its certificate. */
export function agentChannel(): grpc.ChannelCredentials {
  return channel({ tls: testPki().agentTls });
}

let dispatchers: Map<TlsMaterial, ReturnType<typeof httpsDispatcher>> | undefined;

/**
 * fetch over HTTPS trusting the test CA, as `token` (default: the admin; pass `null` to send none)
 * and with `tls`'s client certificate when it has one.
 */
export function secureFetch(url: string, init: RequestInit & { token?: string | null; tls?: TlsMaterial } = {}): ReturnType<typeof undiciFetch> {
  const { token, tls, ...rest } = init;
  const material = tls ?? testPki().clientTls;
  dispatchers ??= new Map();
  let dispatcher = dispatchers.get(material);
  if (!dispatcher) {
    dispatcher = httpsDispatcher(material);
    dispatchers.set(material, dispatcher);
  }
  const headers = new Headers(rest.headers as ConstructorParameters<typeof Headers>[0]);
  const bearer = token === undefined ? testPki().adminToken : token;
  if (bearer !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
  return undiciFetch(url, { ...rest, headers: Object.fromEntries(headers), dispatcher });
}

/** `host:port` or a URL → an https URL (tests name servers by address). */
export function httpsUrl(address: string, pathAndQuery = ''): string {
  const base = /^https?:\/\//.test(address) ? address.replace(/^http:/, 'https:') : `https://${address}`;
  return `${base.replace(/\/+$/, '')}${pathAndQuery}`;
}

/** How the built-in frameworks reach a test master: TLS, and the token of principal agora-frameworks. */
export function frameworksAccess(): { credentials: { ca: Buffer; token: string } } {
  const pki = testPki();
  return { credentials: { ca: pki.clientTls.ca, token: pki.frameworksToken } };
}

/**
 * An authenticator that knows the run's tokens and CA without a master (for a frameworks host
 * tested on its own): what a master's Access service would answer.
 */
export async function testAuthenticator(): Promise<Authenticator> {
  const store = await openStore('memory:', { chroot: '/agora' });
  const acl = await AclStore.open(store, 'default');
  for (const t of testTokens()) await acl.importToken(t.token, { ...t, createdBy: 'test', now: Date.now() });
  return new AclAuthenticator(acl, new CertificateVerifier(testPki().clientTls.ca));
}

/** What a FrameworkDriver in a test connects with: TLS and the admin token. */
export function driverAccess(token = testPki().adminToken): { credentials: { ca: Buffer; token: string } } {
  return { credentials: { ca: testPki().clientTls.ca, token } };
}

/** HttpAuth for Agora's own HTTP client (frameworks/api/http-client.ts): the test admin, trusting the test CA. */
export function adminHttp(): HttpAuth {
  return httpAuth(testPki().adminToken, testPki().clientTls);
}

/** A zk:// URL with the test masters' digest credentials (what they and their tools open the store with). */
export function securedZkUrl(url: string): string {
  return url.replace(/^zk:\/\//, `zk://${testPki().zkCredentials}@`);
}
