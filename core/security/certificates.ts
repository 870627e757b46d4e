// Client certificates as credentials. Servers ask for a certificate without requiring one (tokens
// are the other way in), so the TLS layer accepts any; the check is here, once per certificate
// (cached by fingerprint): signed by the cluster CA, within its dates, meant for client
// authentication. Its identity is CN (the principal) and its OUs (the policies it holds).
import { X509Certificate, createHash } from 'node:crypto';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const CACHE_LIMIT = 4096;

export interface CertificateIdentity {
  readonly name: string;
  readonly policies: readonly string[];
  /** Expiry of the certificate: a cached verdict is not used past it. */
  readonly notAfterMs: number;
}

export type CertificateVerdict = { readonly ok: true; readonly identity: CertificateIdentity } | { readonly ok: false; readonly reason: string };

export class CertificateVerifier {
  readonly #ca: X509Certificate;
  readonly #cache = new Map<string, CertificateVerdict>();

  constructor(caPem: string | Buffer) {
    this.#ca = new X509Certificate(caPem);
  }

  /** Verify a certificate presented by a client (DER bytes, as TLS hands them over). */
  verify(der: Buffer, now = Date.now()): CertificateVerdict {
    const key = createHash('sha256').update(der).digest('hex');
    const cached = this.#cache.get(key);
    if (cached && (!cached.ok || now < cached.identity.notAfterMs)) return cached;
    const { verdict, dated } = this.#check(der, now);
    // Kept: a good certificate (until it expires), and one that can never be good (another CA,
    // unparseable, wrong usage). Not kept: one refused for its dates, which depend on `now`.
    if (!dated) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(key, verdict);
    }
    return verdict;
  }

  /** The verdict, and whether it turned on the certificate's dates (so on `now`). */
  #check(der: Buffer, now: number): { verdict: CertificateVerdict; dated: boolean } {
    const refuse = (reason: string, dated = false): { verdict: CertificateVerdict; dated: boolean } => ({ verdict: { ok: false, reason }, dated });
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return refuse('the client certificate cannot be parsed');
    }
    if (!cert.checkIssued(this.#ca) || !cert.verify(this.#ca.publicKey)) {
      return refuse(`the client certificate '${cert.subject.replace(/\n/g, ', ')}' is not signed by this cluster's CA`);
    }
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    if (!(now >= from && now <= to)) return refuse(`the client certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo})`, true);
    if (cert.keyUsage !== undefined && !cert.keyUsage.includes(CLIENT_AUTH)) return refuse('the certificate is not meant for client authentication');
    const fields = subjectFields(cert.subject);
    const name = fields.get('CN')?.[0];
    if (!name) return refuse('the client certificate has no common name (CN) to name its principal');
    return { verdict: { ok: true, identity: { name, policies: fields.get('OU') ?? [], notAfterMs: to } }, dated: false };
  }
}

/** `CN=a\nOU=x\nOU=y` → { CN: [a], OU: [x, y] }. Names are restricted, so no escapes to undo. */
function subjectFields(subject: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}
