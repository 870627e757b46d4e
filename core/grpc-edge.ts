// The gRPC server's defences (core/server-limits.ts has the defaults and why):
//
//   serverOptionsFor   grpc-js options from the limits: streams per connection, message size,
//                      keepalive pings, idle connections
//   guardDecoding      a request that does not decode is INVALID_ARGUMENT naming `request`, not
//                      the INTERNAL grpc-js answers (its decoding failure is not the server's)
//   listenCapped       the listening socket is ours, not grpc-js's, so connections are capped
//                      (core/connection-limits.ts) before TLS; grpc-js gets each one through its
//                      connection injector. A TLS handshake not done in time drops the connection.
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { capConnections, type ConnectionStats } from './connection-limits.js';
import { CODE_METADATA_KEY, FIELD_METADATA_KEY, InvalidArgumentError, UnavailableError } from './errors.js';
import type { GrpcLimits } from './server-limits.js';

export function serverOptionsFor(limits: GrpcLimits): grpc.ServerOptions {
  return {
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_receive_message_length': limits.maxReceiveMessageBytes,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
  };
}

/** What a request deserializer returns for bytes that are not a message of its type. */
class Undecodable {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {}
}

type ServiceTarget = Pick<grpc.Server, 'addService'>;

/**
 * Makes `server.addService` wrap each method's request deserializer so that bytes that do not
 * decode become an Undecodable marker instead of an exception (which grpc-js would answer with
 * INTERNAL); `rejectUndecodable`, a server interceptor, answers the marker with INVALID_ARGUMENT.
 */
export function guardDecoding(server: ServiceTarget): void {
  const addService = server.addService.bind(server);
  server.addService = (definition, implementation) => {
    const guarded: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [name, method] of Object.entries(definition)) {
      const decode = method.requestDeserialize;
      guarded[name] = {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return decode(bytes);
          } catch (err) {
            return new Undecodable(method.path, err instanceof Error ? err.message : String(err));
          }
        },
      };
    }
    addService(guarded as grpc.ServiceDefinition, implementation);
  };
}

/** The interceptor that answers an undecodable request with INVALID_ARGUMENT, field `request`. */
export const rejectUndecodable: grpc.ServerInterceptor = (_method, call) => {
  const intercepted: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, pass: (message: unknown) => void) => {
          if (!(message instanceof Undecodable)) {
            pass(message);
            return;
          }
          const error = new InvalidArgumentError('request', `the bytes are not a valid message for ${message.method}: ${message.reason}`);
          const metadata = new grpc.Metadata();
          metadata.set(CODE_METADATA_KEY, error.code);
          metadata.set(FIELD_METADATA_KEY, 'request');
          intercepted.sendStatus({ code: grpc.status.INVALID_ARGUMENT, details: error.message, metadata });
        },
      }),
  });
  return intercepted;
};

/** TLS credentials that drop a client not done with its handshake within `ms` (Node's default is 120 s). */
export function withHandshakeTimeout(credentials: grpc.ServerCredentials, ms: number): grpc.ServerCredentials {
  // grpc-js hands these options to http2.createSecureServer, so tls.Server's handshakeTimeout holds.
  const options = credentials._getConstructorOptions();
  if (options) options.handshakeTimeout = ms;
  return credentials;
}

export interface CappedListener {
  readonly port: number;
  readonly connections: ConnectionStats;
  /** Stops accepting; resolves once every connection it accepted has closed. */
  close(): Promise<void>;
  /** Destroys the connections still open (after grpc-js has shut down: those it never took up). */
  destroy(): void;
}

/** Listens on host:port (0 = any free port) and hands each connection within the caps to `server`. */
export async function listenCapped(
  server: grpc.Server,
  credentials: grpc.ServerCredentials,
  host: string,
  port: number,
  limits: Pick<GrpcLimits, 'maxConnections' | 'maxConnectionsPerClient'>,
  onError: (err: Error) => void = () => undefined,
): Promise<CappedListener> {
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<net.Socket>();
  const listener = net.createServer({ noDelay: true }, (socket) => {
    if (socket.destroyed) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  const connections = capConnections(listener, { max: limits.maxConnections, perClient: limits.maxConnectionsPerClient });
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err) => reject(new UnavailableError(`cannot bind gRPC server to ${host}:${port}: ${err.message}`, { cause: err })));
    listener.listen({ host: bare, port }, () => resolve());
  });
  // Once listening, an error is one accept failing (EMFILE when the process is out of descriptors):
  // the server goes on, it must not crash.
  listener.on('error', onError);
  const address = listener.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    connections,
    close: () => (closing ??= new Promise((resolve) => listener.close(() => resolve()))),
    destroy: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}
