// The Jobs API's request metrics, for both transports: every unary gRPC call and every HTTP
// request to the mirror is counted by method and result code, and timed. Counted where the call
// enters the process (before authentication), so refusals count too.
//
//   gRPC   method = the Jobs method (`Apply`, `Scale`, …), code = the gRPC status name (`OK`, `PERMISSION_DENIED`)
//   HTTP   method = `VERB /route` (`POST /api/v1/services/:name/scale`), code = the HTTP status (`200`, `403`)
//
// Streams are not timed: their length is the client's, not the server's latency. HTTP event
// streams and followed logs are counted when they end; the gRPC streams (Watch, TaskLogs) are not
// counted at all (only unary calls are wrapped).
import type * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { GrpcStatus } from '../../core/errors.js';

export type Transport = 'grpc' | 'http';

const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

/** A gRPC status code's name (`7` → `PERMISSION_DENIED`). */
export function grpcCodeName(code: number): string {
  return STATUS_NAMES.get(code) ?? `CODE_${code}`;
}

export class JobsApiMetrics {
  readonly #requests: Counter<'transport' | 'method' | 'code'>;
  readonly #duration: Histogram<'transport' | 'method'>;

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'agora_jobs_api_requests_total',
      help: 'Jobs API requests answered, by transport (grpc, http), method and result code (gRPC status name, HTTP status)',
      labelNames: ['transport', 'method', 'code'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'agora_jobs_api_request_duration_seconds',
      help: 'Time to answer a Jobs API request (streams are not timed), by transport and method',
      labelNames: ['transport', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** One request answered; `seconds` undefined for a stream (counted, not timed). */
  observe(transport: Transport, method: string, code: string, seconds: number | undefined): void {
    this.#requests.inc({ transport, method, code });
    if (seconds !== undefined) this.#duration.observe({ transport, method }, seconds);
  }

  /** A unary gRPC handler, counted and timed as `method`. */
  unary<Req, Res>(method: string, handler: grpc.handleUnaryCall<Req, Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const started = process.hrtime.bigint();
      handler(call, (err, value, ...rest) => {
        this.observe('grpc', method, grpcCodeName(err ? (err.code ?? GrpcStatus.UNKNOWN) : GrpcStatus.OK), elapsed(started));
        callback(err, value, ...rest);
      });
    };
  }
}

/** Seconds since `started` (process.hrtime.bigint()). */
export function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
