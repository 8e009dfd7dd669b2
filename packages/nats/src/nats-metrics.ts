import type { NatsConnection } from '@nats-io/nats-core';
import { Counter, Gauge, type Registry } from 'prom-client';
import { streamPublisher } from './stream-publisher.js';

/**
 * Registers the metrics of a process's NATS connection in `registry`: `sagaflow_nats_reconnects_total`
 * (counted from the connection's status events) and `sagaflow_nats_pending_acks` (JetStream publishes
 * sent and not yet acknowledged by their stream, read when scraped). Stops counting when the connection closes.
 */
export function registerNatsMetrics(connection: NatsConnection, registry: Registry): void {
  // Several workers of one process share their connection and registry: the first registers.
  if (registry.getSingleMetric('sagaflow_nats_reconnects_total') !== undefined) return;
  const reconnects = new Counter({ name: 'sagaflow_nats_reconnects_total', help: 'Times the NATS connection was re-established', registers: [registry] });
  new Gauge({
    name: 'sagaflow_nats_pending_acks',
    help: 'JetStream publishes awaiting their acknowledgement from the stream',
    registers: [registry],
    collect() {
      this.set(connection.isClosed() ? 0 : streamPublisher(connection).awaitingAcks);
    },
  });
  void (async () => {
    for await (const status of connection.status()) if (status.type === 'reconnect') reconnects.inc();
  })().catch(() => undefined);
}
