// The proxy's counts, on the frameworks host's own registry (its /metrics; in `agora up` the
// master's): per service, connections accepted, open now, and connects to instances that failed.
import { Counter, Gauge, type Registry } from 'prom-client';

export class ProxyMetrics {
  readonly connections: Counter<'service'>;
  readonly active: Gauge<'service'>;
  readonly connectFailures: Counter<'service'>;

  constructor(registry: Registry) {
    this.connections = new Counter({ name: 'agora_proxy_connections_total', help: "Connections the proxy accepted on a service's servicePort", labelNames: ['service'], registers: [registry] });
    this.active = new Gauge({ name: 'agora_proxy_active_connections', help: 'Connections open through the proxy now, per service', labelNames: ['service'], registers: [registry] });
    this.connectFailures = new Counter({
      name: 'agora_proxy_connect_failures_total',
      help: 'Connects from the proxy to an instance that failed (refused, unreachable, timed out); the next instance is tried',
      labelNames: ['service'],
      registers: [registry],
    });
  }
}
