import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { naming, readClusterView, type ClusterView, type PartitionView } from '@sagaflow/nats';
import { OperationError } from '../cli-error.js';
import { withNats } from '../nats-client.js';
import { globalHelp, noPositionals, parseCommand, printedHelp, type Command } from '../options.js';
import { isoTime, palette, print, printJson, table } from '../output.js';

/** `sagaflow cluster`: the engines sharing a namespace, their partitions, lease ages and backlog. */
export const clusterCommand: Command = {
  name: 'cluster',
  help: `Usage: sagaflow cluster [global options]

Lists the engines sharing the namespace (read from NATS: the namespace's KV buckets and the
partitions' consumers; no engine needs to answer): each engine's id, host and pid, when it
started, the partitions it holds, the age of its oldest lease renewal, the unfinished instances it
holds in memory and its timers, and its lag: replies and start requests of its partitions stored
and not yet handed to it, and handed to it and not yet acknowledged (an engine holding every partition takes them in
together: its lag is theirs, and a partition's own is null). Then the partitions nobody holds
(changing hands, or no engine runs).

A lease older than the namespace's lease TTL cannot be: it has lapsed. An age near the TTL means
the engine is failing to renew (overloaded, paused, or cut off from NATS).

--json: { "namespace", "partitions", "leaseTtlMs", "engines": [{ "id", "host", "pid", "startedAt",
"announcedAt", "partitions": [n, …], "oldestLeaseAgeMs", "instancesInMemory", "timersArmed",
"pending", "unacknowledged" }], "unowned": [n, …], "partitionDetails": [{ "partition", "owner",
"renewedAt", "leaseAgeMs", "pending", "unacknowledged" }] }.

${globalHelp}

Examples:
  sagaflow cluster
  sagaflow cluster --namespace shop --json`,
  async run(argv) {
    const { global, positionals } = parseCommand(argv, {});
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const names = naming(global.namespace);
    const view = await withNats(global, async (connection) => readClusterView(jetstream(connection), await jetstreamManager(connection), names));
    if (view === null) throw new OperationError(`Namespace "${global.namespace}" has no partitions yet: no engine of this Sagaflow has run in it (start one with "sagaflow run")`);
    const now = Date.now();
    const report = summarise(view, now);
    if (global.json) {
      printJson({ namespace: global.namespace, partitions: view.config.partitions, leaseTtlMs: view.config.leaseTtlMs, ...report });
      return 0;
    }
    const colours = palette();
    print(`namespace ${global.namespace}: ${view.config.partitions} partitions, lease TTL ${view.config.leaseTtlMs} ms, ${view.engines.length} engine(s)`);
    if (report.engines.length > 0) {
      print();
      print(
        table(
          colours,
          ['ENGINE', 'HOST', 'PID', 'STARTED', 'PARTITIONS', 'HELD', 'OLDEST LEASE', 'IN MEMORY', 'TIMERS', 'PENDING', 'UNACKED'],
          report.engines.map((engine) => [
            engine.id,
            engine.host,
            String(engine.pid),
            engine.startedAt,
            ranges(engine.partitions),
            String(engine.partitions.length),
            engine.oldestLeaseAgeMs === null ? '-' : `${(engine.oldestLeaseAgeMs / 1000).toFixed(1)} s`,
            String(engine.instancesInMemory),
            String(engine.timersArmed),
            String(engine.pending),
            String(engine.unacknowledged),
          ]),
          ['left', 'left', 'right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
        ),
      );
    }
    print();
    print(report.unowned.length === 0 ? 'every partition has an owner' : `partitions without an owner: ${ranges(report.unowned)}`);
    return 0;
  },
};

/** The per-engine and per-partition figures of the view. */
function summarise(view: ClusterView, now: number) {
  const ofOwner = (id: string): PartitionView[] => view.partitions.filter((partition) => partition.owner === id);
  const engines = view.engines.map((engine) => {
    const held = ofOwner(engine.id);
    const renewals = held.flatMap((partition) => (partition.renewedAt === null ? [] : [partition.renewedAt]));
    // An engine holding every partition takes them in through one consumer per stream: its backlog is theirs.
    const holdsAll = held.length === view.partitions.length;
    return {
      id: engine.id,
      host: engine.host,
      pid: engine.pid,
      startedAt: isoTime(engine.startedAt),
      announcedAt: isoTime(engine.announcedAt),
      partitions: held.map((partition) => partition.partition),
      oldestLeaseAgeMs: renewals.length === 0 ? null : now - Math.min(...renewals),
      instancesInMemory: engine.instancesInMemory,
      timersArmed: engine.timersArmed,
      pending: held.reduce((sum, partition) => sum + (partition.pending ?? 0), 0) + (holdsAll ? (view.wide?.pending ?? 0) : 0),
      unacknowledged: held.reduce((sum, partition) => sum + (partition.unacknowledged ?? 0), 0) + (holdsAll ? (view.wide?.unacknowledged ?? 0) : 0),
    };
  });
  return {
    engines,
    unowned: view.partitions.filter((partition) => partition.owner === null).map((partition) => partition.partition),
    partitionDetails: view.partitions.map((partition) => ({
      ...partition,
      renewedAt: partition.renewedAt === null ? null : isoTime(partition.renewedAt),
      leaseAgeMs: partition.renewedAt === null ? null : now - partition.renewedAt,
    })),
  };
}

/** `0-3, 7, 9-10` from [0, 1, 2, 3, 7, 9, 10]. */
function ranges(numbers: readonly number[]): string {
  if (numbers.length === 0) return '-';
  const parts: string[] = [];
  let start = numbers[0] ?? 0;
  let previous = start;
  for (const n of [...numbers.slice(1), Number.NaN]) {
    if (n === previous + 1) {
      previous = n;
      continue;
    }
    parts.push(start === previous ? String(start) : `${start}-${previous}`);
    start = n;
    previous = n;
  }
  return parts.join(', ');
}
