// Prometheus metrics of an HTTP server's limits (core/http.ts), read at scrape time: what the
// connection caps, the idle timeout and the event-stream gate have shed. Added to a process's own
// registry by the process (master/http/routes.ts, agent/http.ts).
import { Counter, Gauge, type Registry } from 'prom-client';
import { httpEdgeStats, type HttpServer } from './http.js';

export function registerHttpEdgeMetrics(registry: Registry, app: HttpServer): void {
  const stats = httpEdgeStats(app);
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  const counter = (name: string, help: string, read: () => number): void => scrapedCounter(registers, name, help, read);
  gauge('agora_http_connections', 'Connections open on the HTTP server', () => stats.connections.open);
  counter('agora_http_connections_refused_total', 'Connections closed on arrival: --http-max-connections or --max-connections-per-client reached', () => stats.connections.refused);
  counter('agora_http_idle_cut_total', 'Connections cut by --http-idle-timeout (a response the client stopped reading, an idle keep-alive)', () => stats.idleCut);
  gauge('agora_http_sse_clients', 'Event streams (Server-Sent Events) open', () => stats.sse.open);
  gauge('agora_http_sse_buffered_bytes', 'Bytes queued in the process for event-stream clients, all together', () => stats.sse.buffered().total);
  counter('agora_http_sse_dropped_total', 'Event-stream clients dropped for reading too slowly', () => stats.sse.dropped);
  counter('agora_http_sse_refused_total', 'Event streams refused: --sse-max-clients open', () => stats.sse.refused);
}

/** A counter whose value another part counts: read at scrape time (prom-client has no settable counter). */
export function scrapedCounter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
