import { existsSync } from 'node:fs';
import { startConsole, ConsoleConfigError } from '@sagaflow/console';
import type { SagaRegistry } from '@sagaflow/core';
import { connectNats } from '@sagaflow/nats';
import { OperationError, UsageError } from '../cli-error.js';
import { consoleOptionsHelp, consoleSettings } from '../console-settings.js';
import { loadSagas } from '../load-sagas.js';
import { natsSettings } from '../nats-client.js';
import { globalHelp, noPositionals, parseCommand, printedHelp, type Command } from '../options.js';
import { print } from '../output.js';
import { openReadStore } from '../read-store.js';
import { maskStoreUrl } from '../store-url.js';

/** `sagaflow ui`: the console, a web page for watching and repairing instances. */
export const uiCommand: Command = {
  name: 'ui',
  help: `Usage: sagaflow ui [--host ADDRESS] [--port N] [--token TOKEN | --users FILE] [--read-only] [global options]

Serves the console until SIGINT or SIGTERM: a web page for operators. It reads the store as list and
show do (the listing indexes, the instances' events), sends repairs to the running engine as retry,
abort, resume and skip do (recorded with the operator's name as --by and a reason), and reads the dead
letters, engines and partitions from NATS. Pages: Overview (counts, throughput and latency charts, the
engines), Instances (filtered, paged, live), an instance (its steps drawn, its timeline, repairs), Dead
letters (inspect, replay, discard) and Sagas (each definition and its machine, from --sagas).

It binds 127.0.0.1 unless told otherwise; any other address needs a token (or a users file) and is
refused without one. Every change is a POST with a CSRF token; the page never receives the store's or
NATS's address or credentials.

Options:
${consoleOptionsHelp()}

${globalHelp}

Examples:
  sagaflow ui                                   # http://127.0.0.1:8233/
  sagaflow ui --store 'esdb://es:2113?tls=false' --nats nats://nats:4222 --sagas /app/sagas
  SAGAFLOW_CONSOLE_TOKEN=$(openssl rand -hex 24) sagaflow ui --host 0.0.0.0 --port 8233
  sagaflow ui --users /etc/sagaflow/operators.json --host 0.0.0.0 --read-only`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      token: { type: 'string' },
      users: { type: 'string' },
      'read-only': { type: 'boolean' },
      'trace-url': { type: 'string' },
    });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const settings = await consoleSettings(values, global.env);
    // The saga files draw the diagrams and the Sagas page; without them (the default directory missing) the console still runs.
    let registry: SagaRegistry | null = null;
    if (typeof values.sagas === 'string' || existsSync(global.sagas)) registry = await loadSagas(global.sagas);
    else print(`no saga files in ${global.sagas}: the console draws no diagrams (use --sagas DIR)`);
    const store = await openReadStore(global.store);
    let connection;
    try {
      connection = await connectNats({ ...natsSettings(global), name: 'sagaflow-console' });
    } catch (error) {
      await store.close();
      throw error;
    }
    let running;
    try {
      running = await startConsole({ store, connection, namespace: global.namespace, registry, ...settings });
    } catch (error) {
      await connection.close();
      await store.close();
      if (error instanceof ConsoleConfigError) throw new UsageError(error.message);
      if (error instanceof Error && /EADDRINUSE/u.test(error.message)) throw new OperationError(`Port ${settings.port} on ${settings.host} is taken: use --port N`);
      throw error;
    }
    print(`console ready: ${running.url} (store ${maskStoreUrl(global.store)}, namespace ${global.namespace}${settings.readOnly ? ', read-only' : ''}${settings.token !== undefined || settings.users !== undefined ? ', token required' : ''})`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
    await connection.drain();
    await store.close();
    return 0;
  },
};
