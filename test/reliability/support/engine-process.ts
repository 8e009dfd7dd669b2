/**
 * An engine process for the reliability tests: SQLite event store, NATS transport (ack wait 1 s,
 * so redelivery after a crash is quick), the sagas of ./sagas.ts. A fault can be injected at the
 * event store, on the first append that records an event of a given type:
 *   --fault refuse:<EventType>:<n>     the store refuses the write n times (the input is redelivered)
 *   --fault kill-before:<EventType>    the process kills itself (SIGKILL) instead of appending
 *   --fault kill-after:<EventType>     the process kills itself right after the append, before acknowledging
 * Usage: engine-process.ts --store PATH --nats URL --namespace NS [--fault SPEC]
 * Prints `recovered <instances> <redispatched> <timers>` and `engine ready`; stops on SIGTERM.
 */
import { parseArgs } from 'node:util';
import type { AppendRequest, EventStore } from '@sagaflow/core';
import { Engine } from '@sagaflow/engine';
import { connectNats, createNatsTransport } from '@sagaflow/nats';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import { registry } from './sagas.js';

const { values } = parseArgs({ options: { store: { type: 'string' }, nats: { type: 'string' }, namespace: { type: 'string' }, fault: { type: 'string' } } });
if (values.store === undefined || values.nats === undefined || values.namespace === undefined) {
  process.stderr.write('usage: engine-process.ts --store PATH --nats URL --namespace NS [--fault SPEC]\n');
  process.exit(2);
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Wraps the store's appends with the fault, if any. */
function withFault(store: EventStore, spec: string | undefined): EventStore {
  if (spec === undefined) return store;
  const [kind, eventType, times] = spec.split(':');
  let left = Number(times ?? 1);
  const records = (requests: readonly AppendRequest[]): boolean => requests.some((request) => request.events.some((event) => event.type === eventType));
  const appendMany = async (requests: readonly AppendRequest[]) => {
    if (left > 0 && records(requests)) {
      left--;
      say(`fault ${kind} ${eventType ?? ''}`);
      if (kind === 'refuse') throw new Error(`injected fault: the event store refused to record ${eventType ?? ''}`);
      if (kind === 'kill-before') process.kill(process.pid, 'SIGKILL');
      const results = await store.appendMany(requests);
      if (kind === 'kill-after') process.kill(process.pid, 'SIGKILL');
      return results;
    }
    return store.appendMany(requests);
  };
  return new Proxy(store, {
    get: (target, property, receiver) => (property === 'appendMany' ? appendMany : (Reflect.get(target, property, receiver) as unknown)),
  });
}

const store = openSqliteEventStore(values.store);
const connection = await connectNats({ url: values.nats, name: 'engine' });
const transport = await createNatsTransport({
  connection,
  namespace: values.namespace,
  consumer: { ackWaitMs: 1_000 },
  retryDelayMs: 300,
  checkBackTimeoutMs: 1_000,
  log: (message) => process.stderr.write(`nats: ${message}\n`),
});
const log = { info: (m: string) => say(`info ${m}`), warn: (m: string) => process.stderr.write(`warn ${m}\n`), error: (m: string) => process.stderr.write(`error ${m}\n`) };
const engine = new Engine({ store: withFault(store, values.fault), registry, transport, log, redispatchDelayMs: 300 });
const report = await engine.start();
say(`recovered ${report.instances} ${report.redispatched} ${report.timersArmed}`);
say('engine ready');

await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
await engine.stop();
await transport.close();
await connection.drain();
await store.close();
