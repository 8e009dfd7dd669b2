/**
 * Runs the EventStoreDB TEST DOUBLE (esdb-test-server.ts) as a process of its own, for trying the
 * EventStoreDB path of the engine, the CLI or the bench where no real server can run. It is not a
 * database: nothing is persisted, and a real EventStoreDB behaves and performs differently.
 *
 *   node --import tsx test/esdb/serve-test-double.ts [--port N]
 *
 * Prints `esdb test double listening on esdb://127.0.0.1:PORT?tls=false`, then serves until SIGINT or
 * SIGTERM.
 */
import { parseArgs } from 'node:util';
import { stopRequested } from '../../examples/shared/stop-signal.js';
import { startEsdbTestServer } from './esdb-test-server.js';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
  process.stderr.write(`serve-test-double: --port must be a port number (0-65535), got "${values.port ?? ''}"\n`);
  process.exit(2);
}
const server = await startEsdbTestServer(port === undefined ? {} : { port });
process.stdout.write(`esdb test double listening on ${server.url}\n`);
await stopRequested();
await server.close();
