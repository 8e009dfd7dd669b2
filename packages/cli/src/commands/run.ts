import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { checkEngineId, commandHeaderForms, createNatsTransport, connectNats, openPartitionLeases, registerNatsMetrics, serveControl, type CommandHeaderForm } from '@sagaflow/nats';
import { ClusterMember, Engine, EngineMetrics, EngineTracing } from '@sagaflow/engine';
import { createMetricsRegistry, MetricsServerError, serveMetrics, type MetricsServer } from '@sagaflow/telemetry';
import { UsageError } from '../cli-error.js';
import { consoleOptionsHelp, consoleSettings } from '../console-settings.js';
import { loadSagas } from '../load-sagas.js';
import { logOptionsHelp, processLogger } from '../log-settings.js';
import { metricsOptionsHelp, metricsSettings } from '../metrics-settings.js';
import { startTracingFromEnv } from '../tracing.js';
import { natsSettings, natsUrlForPeople } from '../nats-client.js';
import { globalHelp, noPositionals, parseCommand, printedHelp, type Command } from '../options.js';
import { maskStoreUrl, openStore } from '../store-url.js';

/** `sagaflow run`: the engine as a long-running process. */
export const runCommand: Command = {
  name: 'run',
  help: `Usage: sagaflow run [--transport nats] [global options]

Runs the engine until SIGINT or SIGTERM, then stops taking new work, finishes what it is
recording, hands its partitions over to the other engines and exits 0. A start that fails (store,
NATS, the namespace's streams or settings, recovery) prints one line and exits 1.

Engines of a namespace share it: every instance belongs to one of its partitions (32 unless the
namespace was created with --partitions), and each partition is decided for by the one engine
holding its lease (a NATS KV entry renewed every quarter of the lease TTL). An engine alone holds
every partition; engines joining or leaving rebalance so each holds an even share; an engine that
stops renewing (killed, paused, cut off from NATS) stops deciding before its leases lapse, and the
others take its partitions over, resuming their unfinished instances from the store. Several
engines must share one store: a SQLite file on one host, or EventStoreDB. "sagaflow cluster" shows them.

Options:
  --transport nats  how steps reach workers (only nats: workers run in their own processes)
  --ack-wait-ms N   how long a delivered reply or start request may stay unacknowledged before
                    NATS redelivers it (default 30000); shorter means faster take-over after a crash
  --partitions N    partitions of a new namespace (default 32, at most 256); fixed once the
                    namespace exists: another value for an existing one is refused
  --lease-ttl-ms N  how long a partition lease lives without renewal, for a new namespace
                    (default 10000, at least 2000): an engine's partitions are taken over this
                    long after it dies; fixed once the namespace exists
  --replicas 1|3|5  replicas of the namespace's streams and KV buckets in a NATS cluster (3 keeps
                    them through the loss of a server); applied to existing streams too
  --engine-id ID    this engine's name among the namespace's engines (default: host, pid and a
                    random suffix); letters, digits, "-", "_", "="
  --ui              also serve the console (as sagaflow ui does) from this process, with:
${consoleOptionsHelp('ui-')}
${metricsOptionsHelp}
${logOptionsHelp}
                    Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set (OTEL_SERVICE_NAME, default
                    sagaflow-engine), spans of each instance and step attempt go there over OTLP/HTTP
  --command-headers minimal|compact|full
                    what a command's headers spell out besides its message id, the effect id (default
                    minimal: nothing). Workers before the minimal form need compact (instance and
                    effect headers), workers before compact headers need full. Upgrading: engines
                    first, with the form the oldest worker reads; then the workers; then drop it
  --heap-growth PERCENT
                    how far the JavaScript heap may grow past what a full garbage collection left
                    before the next one (V8's --heap-growing-percent, 1 to 1000; default: V8's own,
                    adaptive). 100 kept the engine under 250 MB at 5,000 sagas in flight, for 6-8%
                    more CPU per saga at that load (docs/benchmarks.md)

${globalHelp}

Examples:
  sagaflow run
  sagaflow run --store sqlite:/var/lib/sagaflow/sagaflow.db --nats nats://nats:4222
  sagaflow run --store 'esdb://es1:2113,es2:2113,es3:2113?tls=false' --engine-id engine-a
  sagaflow run --heap-growth 100
  NATS_CREDS=/etc/sagaflow/engine.creds sagaflow run --nats tls://nats.example:4222`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, {
      transport: { type: 'string' },
      'ack-wait-ms': { type: 'string' },
      'command-headers': { type: 'string' },
      'heap-growth': { type: 'string' },
      partitions: { type: 'string' },
      'lease-ttl-ms': { type: 'string' },
      'engine-id': { type: 'string' },
      replicas: { type: 'string' },
      ui: { type: 'boolean' },
      'ui-host': { type: 'string' },
      'ui-port': { type: 'string' },
      'ui-token': { type: 'string' },
      'ui-users': { type: 'string' },
      'ui-read-only': { type: 'boolean' },
      'ui-trace-url': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const transportName = typeof values.transport === 'string' ? values.transport : 'nats';
    if (transportName !== 'nats') throw new UsageError(`Unknown transport "${transportName}": the engine runs with --transport nats`);
    const ackWaitMs = typeof values['ack-wait-ms'] === 'string' ? Number(values['ack-wait-ms']) : undefined;
    if (ackWaitMs !== undefined && !(Number.isInteger(ackWaitMs) && ackWaitMs >= 100)) throw new UsageError('--ack-wait-ms must be an integer >= 100');
    const partitions = wholeNumberOption(values.partitions, '--partitions', 1, 256);
    const leaseTtlMs = wholeNumberOption(values['lease-ttl-ms'], '--lease-ttl-ms', 2_000, 3_600_000);
    const replicas = wholeNumberOption(values.replicas, '--replicas', 1, 5);
    if (replicas !== undefined && ![1, 3, 5].includes(replicas)) throw new UsageError(`--replicas must be 1, 3 or 5, not ${replicas}`);
    const engineId = typeof values['engine-id'] === 'string' ? values['engine-id'] : defaultEngineId();
    try {
      checkEngineId(engineId);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const headerForm = typeof values['command-headers'] === 'string' ? values['command-headers'] : 'minimal';
    if (!(commandHeaderForms as readonly string[]).includes(headerForm)) {
      throw new UsageError(`Unknown --command-headers "${headerForm}": use ${commandHeaderForms.join(', ')}`);
    }
    const heapGrowth = wholeNumberOption(values['heap-growth'], '--heap-growth', 1, 1000);
    // Before the engine allocates: V8 reads the factor at each garbage collection, so it holds from the next one.
    if (heapGrowth !== undefined) setFlagsFromString(`--heap-growing-percent=${heapGrowth}`);
    const consoleOptions = values.ui === true ? await consoleSettings(values, global.env, 'ui-') : null;
    if (consoleOptions === null && Object.keys(values).some((name) => name.startsWith('ui-'))) throw new UsageError('--ui-host, --ui-port, --ui-token, --ui-users, --ui-read-only and --ui-trace-url go with --ui');
    const metricsOptions = metricsSettings(values);
    const log = processLogger(values, 'sagaflow-engine', { engine: engineId });
    const registry = await loadSagas(global.sagas);
    // Counted only when served; served from the start, so a supervisor sees the process live (/healthz)
    // while it recovers (/readyz 503).
    const metricsRegistry = metricsOptions === null ? null : createMetricsRegistry();
    let live: { engine: Engine; member: ClusterMember } | undefined;
    let stopping = false;
    const metrics =
      metricsRegistry === null
        ? undefined
        : new EngineMetrics(metricsRegistry, () =>
            live === undefined
              ? undefined
              : { instances: () => live?.engine.instancesInMemory() ?? [], timersArmed: () => live?.engine.timersArmed ?? 0, partitionsHeld: () => live?.member.partitions.length ?? 0 },
          );
    const metricsServer: MetricsServer | null =
      metricsOptions === null || metricsRegistry === null
        ? null
        : await serveMetrics({
            registry: metricsRegistry,
            ...metricsOptions,
            notReady: () => (stopping ? 'stopping' : live === undefined ? 'starting: connecting, recovering instances' : null),
          }).catch((error: unknown) => {
            throw error instanceof MetricsServerError ? new UsageError(error.message) : error;
          });
    if (metricsServer !== null) log.info(`metrics on ${metricsServer.url}/metrics`);
    const tracing = await startTracingFromEnv('sagaflow-engine').catch(async (error: unknown) => {
      await metricsServer?.close();
      throw new UsageError(error instanceof Error ? error.message : String(error));
    });
    if (tracing !== null) log.info(`traces to ${tracing.endpoint}`);
    // What a failed start has opened is closed again, newest first, so that the process exits (code 1)
    // instead of lingering without an engine, where a supervisor would take it for a running one.
    const opened: (() => Promise<unknown>)[] = [];
    const closeOpened = async (): Promise<void> => {
      live = undefined;
      for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
      await metricsServer?.close();
      await tracing?.shutdown();
    };
    const starting = async () => {
      const store = await openStore(global.store, { log: (line) => log.info(line) });
      opened.push(() => store.close());
      log.info('connecting to NATS');
      const connection = await connectNats({ ...natsSettings(global), name: 'sagaflow-engine' });
      opened.push(() => connection.close());
      if (metricsRegistry !== null) registerNatsMetrics(connection, metricsRegistry);
      const transport = await createNatsTransport({
        connection,
        namespace: global.namespace,
        commandHeaders: headerForm as CommandHeaderForm,
        ...(ackWaitMs === undefined ? {} : { consumer: { ackWaitMs } }),
        ...(partitions === undefined ? {} : { partitions }),
        ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
        ...(replicas === undefined ? {} : { streamReplicas: replicas }),
        ...(metricsRegistry === null ? {} : { metrics: metricsRegistry }),
      });
      opened.push(() => transport.close());
      const leases = await openPartitionLeases(transport.js, transport.jsm, transport.names, transport.config, replicas);
      const startedAt = Date.now();
      const member = new ClusterMember({ identity: { id: engineId, host: hostname(), pid: process.pid, startedAt }, leases, transport, log });
      const engine = new Engine({ store, registry, transport, log, ownership: member, ...(metrics === undefined ? {} : { observer: metrics }), tracing: new EngineTracing() });
      opened.push(() => engine.stop());
      opened.push(() => member.leave());
      const report = await member.join(engine);
      live = { engine, member };
      return { store, connection, transport, engine, member, startedAt, report };
    };
    const { store, connection, transport, engine, member, startedAt, report } = await starting().catch(async (error: unknown) => {
      await closeOpened();
      throw error;
    });
    const control = serveControl(connection, transport.names, {
      intervene: (request) => transport.intervene(request),
      status: () => {
        const { active, idle } = performance.eventLoopUtilization();
        return {
          sagas: registry.list(),
          startedAt,
          instancesInMemory: engine.cachedInstances,
          eventLoop: { activeMs: active, idleMs: idle },
          engine: { id: member.id, partitions: member.partitions },
        };
      },
    });
    opened.push(() => control.stop());
    // Loaded only when served: without the console's web server and its modules an idle engine holds ~5 MB less.
    const served =
      consoleOptions === null
        ? null
        : await import('@sagaflow/console').then(({ ConsoleConfigError, startConsole }) =>
            startConsole({ store, connection, namespace: global.namespace, registry, ...consoleOptions }).catch(async (error: unknown) => {
              await closeOpened();
              throw error instanceof ConsoleConfigError ? new UsageError(error.message) : error;
            }),
          );
    if (served !== null) log.info(`console ready: ${served.url}`);
    log.info(
      `engine ready: store ${maskStoreUrl(global.store)}, nats ${natsUrlForPeople(global)}, ` +
        `namespace ${global.namespace}, sagas ${registry.list().join(', ')}; engine ${member.id} holds ${member.partitions.length} of ` +
        `${transport.config.partitions} partition(s); resumed ${report.instances} instance(s)` +
        (heapGrowth === undefined ? '' : `; heap growth ${heapGrowth}%`),
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    stopping = true;
    log.info('stopping: finishing work in progress, handing the partitions over');
    await served?.close();
    await control.stop();
    await member.leave();
    await transport.close();
    await engine.stop();
    await connection.drain();
    await store.close();
    await metricsServer?.close();
    await tracing?.shutdown();
    log.info('stopped');
    return 0;
  },
};

/** An engine id unique while it runs: the host, the process and a random suffix, as a KV key token. */
function defaultEngineId(): string {
  const host = hostname().replace(/[^-\w]/gu, '-').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** A whole-number option within bounds, or undefined when absent; a usage error otherwise. */
function wholeNumberOption(value: unknown, option: string, min: number, max: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = /^\d+$/u.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new UsageError(`${option} must be a whole number from ${min} to ${max}, not "${value}"`);
  return parsed;
}
