import { performance } from 'node:perf_hooks';
import { commandHeaderForms, createNatsTransport, connectNats, serveControl, type CommandHeaderForm } from '@sagaflow/nats';
import { Engine } from '@sagaflow/engine';
import { UsageError } from '../cli-error.js';
import { loadSagas } from '../load-sagas.js';
import { natsSettings, natsUrlForPeople } from '../nats-client.js';
import { globalHelp, noPositionals, parseCommand, printedHelp, type Command } from '../options.js';
import { maskStoreUrl, openStore } from '../store-url.js';

/** `sagaflow run`: the engine as a long-running process. */
export const runCommand: Command = {
  name: 'run',
  help: `Usage: sagaflow run [--transport nats] [global options]

Runs the engine until SIGINT or SIGTERM, then stops taking new work, finishes what it is
recording and exits 0. On start it resumes every unfinished instance in the store. A start that
fails (store, NATS, the namespace's streams, recovery) prints one line and exits 1.

Options:
  --transport nats  how steps reach workers (only nats: workers run in their own processes)
  --ack-wait-ms N   how long a delivered reply or start request may stay unacknowledged before
                    NATS redelivers it (default 30000); shorter means faster take-over after a crash
  --command-headers compact|full
                    what a command's headers spell out (default compact: its instance and effect id).
                    Workers of an earlier Sagaflow read only full ones: use full until every worker
                    is upgraded (upgrade the workers first, then the engine)

${globalHelp}

Examples:
  sagaflow run
  sagaflow run --store sqlite:/var/lib/sagaflow/sagaflow.db --nats nats://nats:4222
  NATS_CREDS=/etc/sagaflow/engine.creds sagaflow run --nats tls://nats.example:4222`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { transport: { type: 'string' }, 'ack-wait-ms': { type: 'string' }, 'command-headers': { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const transportName = typeof values.transport === 'string' ? values.transport : 'nats';
    if (transportName !== 'nats') throw new UsageError(`Unknown transport "${transportName}": the engine runs with --transport nats`);
    const ackWaitMs = typeof values['ack-wait-ms'] === 'string' ? Number(values['ack-wait-ms']) : undefined;
    if (ackWaitMs !== undefined && !(Number.isInteger(ackWaitMs) && ackWaitMs >= 100)) throw new UsageError('--ack-wait-ms must be an integer >= 100');
    const headerForm = typeof values['command-headers'] === 'string' ? values['command-headers'] : 'compact';
    if (!(commandHeaderForms as readonly string[]).includes(headerForm)) {
      throw new UsageError(`Unknown --command-headers "${headerForm}": use ${commandHeaderForms.join(' or ')}`);
    }
    const registry = await loadSagas(global.sagas);
    const log = {
      info: (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`),
      warn: (message: string) => process.stderr.write(`${new Date().toISOString()} warning: ${message}\n`),
      error: (message: string) => process.stderr.write(`${new Date().toISOString()} error: ${message}\n`),
    };
    // What a failed start has opened is closed again, newest first, so that the process exits (code 1)
    // instead of lingering without an engine, where a supervisor would take it for a running one.
    const opened: (() => Promise<unknown>)[] = [];
    const starting = async () => {
      const store = await openStore(global.store);
      opened.push(() => store.close());
      process.stdout.write(`${new Date().toISOString()} connecting to NATS\n`);
      const connection = await connectNats({ ...natsSettings(global), name: 'sagaflow-engine' });
      opened.push(() => connection.close());
      const transport = await createNatsTransport({
        connection,
        namespace: global.namespace,
        commandHeaders: headerForm as CommandHeaderForm,
        ...(ackWaitMs === undefined ? {} : { consumer: { ackWaitMs } }),
      });
      opened.push(() => transport.close());
      const engine = new Engine({ store, registry, transport, log });
      opened.push(() => engine.stop());
      const startedAt = Date.now();
      return { store, connection, transport, engine, startedAt, report: await engine.start() };
    };
    const { store, connection, transport, engine, startedAt, report } = await starting().catch(async (error: unknown) => {
      for (const close of opened.reverse()) await close().catch(() => undefined);
      throw error;
    });
    const control = serveControl(connection, transport.names, {
      intervene: (request) => engine.intervene(request.instanceId, request.action, request.by, request.reason, request.step),
      status: () => {
        const { active, idle } = performance.eventLoopUtilization();
        return { sagas: registry.list(), startedAt, instancesInMemory: engine.cachedInstances, eventLoop: { activeMs: active, idleMs: idle } };
      },
    });
    log.info(
      `engine ready: store ${maskStoreUrl(global.store)}, nats ${natsUrlForPeople(global)}, ` +
        `namespace ${global.namespace}, sagas ${registry.list().join(', ')}; resumed ${report.instances} instance(s)`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    log.info('stopping: finishing work in progress');
    await control.stop();
    await transport.close();
    await engine.stop();
    await connection.drain();
    await store.close();
    log.info('stopped');
    return 0;
  },
};
