// Certificates for a cluster: a CA, and server / client certificates it signs — what `agora tls`
// and `agora up`'s first start make. ECDSA P-256 keys (fast to make and to handshake), built with
// @peculiar/x509 on Node's WebCrypto rather than by hand.
//
// A certificate's identity: CN is the principal's name, each OU a policy it holds (`agent`,
// `admin`, …); SANs are the DNS names and IP addresses it serves. Servers check a client
// certificate's chain, dates and clientAuth usage (certificates.ts).
import 'reflect-metadata';
import { isIP } from 'node:net';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { InvalidArgumentError } from '../errors.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 is typed against the DOM's Crypto; Node's WebCrypto is that API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Certificates are valid from an hour ago, so a peer whose clock is a little behind accepts them. */
const SKEW_MS = 3_600_000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export type CertificateUsage = 'server' | 'client' | 'both';

export interface CertificateRequest {
  readonly ca: PemPair;
  /** The principal's name (CN). */
  readonly name: string;
  readonly usage: CertificateUsage;
  /** DNS names and IP addresses the certificate is good for (servers). */
  readonly hosts?: readonly string[];
  /** Policies the principal holds (one OU each). */
  readonly policies?: readonly string[];
  readonly days?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;

export async function createCa(options: { name?: string; days?: number } = {}): Promise<PemPair> {
  const name = options.name ?? 'Agora CA';
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name)) throw new InvalidArgumentError('name', `'${name}' is not a valid CA name`);
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + days(options.days, 3650) * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

export async function createCertificate(request: CertificateRequest): Promise<PemPair> {
  if (!NAME.test(request.name)) throw new InvalidArgumentError('name', `'${request.name}' is not a valid principal name: letters, digits, '.', '_', '@', ':' or '-'`);
  for (const [i, p] of (request.policies ?? []).entries()) {
    if (!/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(p)) throw new InvalidArgumentError(`policies[${i}]`, `'${p}' is not a valid policy name`);
  }
  const hosts = [...new Set(request.hosts ?? [])];
  for (const [i, h] of hosts.entries()) {
    if (isIP(h) === 0 && !/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(h)) {
      throw new InvalidArgumentError(`hosts[${i}]`, `'${h}' is neither a DNS name nor an IP address`);
    }
  }
  if (request.usage !== 'client' && hosts.length === 0) throw new InvalidArgumentError('hosts', 'a server certificate needs at least one DNS name or IP address');
  const ca = await loadCa(request.ca);
  const keys = await generateKeys();
  const now = Date.now();
  const usages = request.usage === 'both' ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [request.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth];
  const subject = [`CN=${request.name}`, ...(request.policies ?? []).map((p) => `OU=${p}`)].join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(Math.min(now + days(request.days, 825) * DAY_MS, ca.cert.notAfter.getTime())),
    signingKey: ca.key,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(hosts.length ? [new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })))] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** The names a certificate is good for (its SANs), to check that a reused one still covers a host. */
export function subjectAltNames(certPem: string): string[] {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.map((n) => n.value) : [];
}

/** The certificate's expiry (ms since the epoch). */
export function notAfterMs(certPem: string): number {
  return new x509.X509Certificate(certPem).notAfter.getTime();
}

async function loadCa(ca: PemPair): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(ca.certPem);
  } catch (err) {
    throw new InvalidArgumentError('ca', `not a PEM certificate (${(err as Error).message})`);
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new InvalidArgumentError('ca', `'${cert.subject}' is not a CA certificate`);
  let key: CryptoKey;
  try {
    const der = x509.PemConverter.decodeFirst(ca.keyPem);
    key = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
  } catch (err) {
    throw new InvalidArgumentError('ca-key', `not a PEM PKCS#8 ECDSA P-256 private key (${(err as Error).message})`);
  }
  return { cert, key };
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** 16 random bytes, first bit clear (a positive serial number, as RFC 5280 asks). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function days(value: number | undefined, def: number): number {
  const d = value ?? def;
  if (!Number.isFinite(d) || d <= 0 || d > 36_500) throw new InvalidArgumentError('days', `must be between 1 and 36500, got ${d}`);
  return d;
}
