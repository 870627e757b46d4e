// TLS material of a process and the credentials built from it, for each kind of link:
//
//   servers  gRPC (grpc-js)  — asks for a client certificate, does not require one (tokens are the
//                              other way in); certificates.ts checks what is presented
//            HTTPS (fastify) — the same
//   clients  gRPC channel    — trusts the cluster CA, presents a certificate when it has one, and
//                              sends a bearer token in `authorization` when it has one
//            HTTPS (undici)  — the same, for the JSON endpoints
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Agent } from 'undici';
import { InvalidArgumentError } from '../errors.js';

/** PEM bytes. `cert` and `key` go together; a pure client may have only `ca`. */
export interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export type ServerTls = TlsMaterial & { readonly cert: Buffer; readonly key: Buffer };

export interface TlsFiles {
  readonly ca: string;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

/** Read the files, checking that each is PEM of the expected kind; errors name the flag. */
export function loadTlsFiles(files: TlsFiles, flags: { ca: string; cert: string; key: string } = { ca: '--tls-ca', cert: '--tls-cert', key: '--tls-key' }): TlsMaterial {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new InvalidArgumentError(files.cert === undefined ? flags.cert : flags.key, `${flags.cert} and ${flags.key} go together`);
  }
  const ca = readPem(files.ca, flags.ca, 'CERTIFICATE');
  if (files.cert === undefined || files.key === undefined) return Object.freeze({ ca });
  return Object.freeze({ ca, cert: readPem(files.cert, flags.cert, 'CERTIFICATE'), key: readPem(files.key, flags.key, 'PRIVATE KEY') });
}

function readPem(file: string, flag: string, label: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new InvalidArgumentError(flag, `cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!data.toString('utf8').includes(`-----BEGIN ${label}-----`) && !(label === 'PRIVATE KEY' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(data.toString('utf8')))) {
    throw new InvalidArgumentError(flag, `'${file}' holds no PEM ${label.toLowerCase()}`);
  }
  return data;
}

export function hasIdentity(tls: TlsMaterial): tls is ServerTls {
  return tls.cert !== undefined && tls.key !== undefined;
}

/** gRPC server credentials: TLS with our certificate, asking clients for theirs (not requiring it). */
export function grpcServerCredentials(tls: ServerTls): grpc.ServerCredentials {
  // grpc-js registers the server's watcher only after adding these listeners, so the material is
  // handed over on the next microtask (before the server can accept a connection), not at once.
  const provider: grpc.experimental.CertificateProvider = {
    addCaCertificateListener: (listener) => queueMicrotask(() => listener({ caCertificate: tls.ca })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => queueMicrotask(() => listener({ certificate: tls.cert, privateKey: tls.key })),
    removeIdentityCertificateListener: () => undefined,
  };
  // One provider serves both roles (grpc-js 1.14 swaps the two arguments internally).
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}

/**
 * grpc-js sets the TLS server name to the address it dials, an IP address included, and Node warns
 * (DEP0123) on the first such connection of every process — noise on every `agora` command talking
 * to an IP. The certificate is still checked against the IP (its SANs); only that warning is dropped.
 */
function quietIpServerNameWarning(): void {
  const emit = process.emitWarning as (...args: unknown[]) => void;
  if ((emit as { agoraQuiet?: boolean }).agoraQuiet) return;
  const quiet = (...args: unknown[]): void => {
    const [, type, code] = args;
    const options = typeof type === 'object' && type !== null ? (type as { code?: string }) : undefined;
    if (code === 'DEP0123' || options?.code === 'DEP0123') return;
    emit.apply(process, args);
  };
  (quiet as { agoraQuiet?: boolean }).agoraQuiet = true;
  process.emitWarning = quiet as typeof process.emitWarning;
}

/** The gRPC metadata key of a bearer token. */
export const AUTHORIZATION_METADATA_KEY = 'authorization';

/**
 * gRPC channel credentials: TLS trusting `tls.ca` (with our certificate when we have one), plus
 * the bearer token on every call when given. `tls` undefined = plaintext (insecure mode only).
 */
export function grpcChannelCredentials(tls: TlsMaterial | undefined, token?: string): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  quietIpServerNameWarning();
  const ssl = grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
  if (token === undefined || token === '') return ssl;
  const bearer = `Bearer ${token}`;
  const call = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set(AUTHORIZATION_METADATA_KEY, bearer);
    callback(null, metadata);
  });
  return grpc.credentials.combineChannelCredentials(ssl, call);
}

/** Options for fastify's `https` (and node:https): our certificate, asking for the client's. */
export function httpsServerOptions(tls: ServerTls): { key: Buffer; cert: Buffer; ca: Buffer; requestCert: true; rejectUnauthorized: false; minVersion: 'TLSv1.2' } {
  return { key: tls.key, cert: tls.cert, ca: tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
}

/** An undici dispatcher that trusts the cluster CA and presents our certificate when we have one. */
export function httpsDispatcher(tls: TlsMaterial): Agent {
  return new Agent({ connect: { ca: tls.ca, ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}) } });
}
