import { eventLoopBusyShare, naming, pingEngine } from '@sagaflow/nats';
import { UsageError } from '../cli-error.js';
import { askEngine, withNats } from '../nats-client.js';
import { globalHelp, parseCommand, printedHelp, type Command } from '../options.js';
import { isoTime, print, printJson } from '../output.js';

/** `sagaflow ping`: whether an engine runs in the namespace (a health check). */
export const pingCommand: Command = {
  name: 'ping',
  help: `Usage: sagaflow ping [--timeout-ms N] [global options]

Asks a running engine of the namespace to answer over NATS (request/reply on <ns>.api.ping; with
several engines, one of them answers), and prints its id and how many partitions it holds, the sagas it runs, since when, how many unfinished instances it holds in memory, and
how busy its event loop has been since it started (--json: the busy and idle milliseconds; two pings
give the busy share between them, near 100% when the engine's one thread is its limit).
Exit code 0 when an engine answered, 1 when none did: usable as a health check.

Options:
  --timeout-ms N   how long to wait for an answer (default 5000)

${globalHelp}

Examples:
  sagaflow ping
  sagaflow ping --namespace shop --json`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { 'timeout-ms': { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    if (positionals.length > 0) throw new UsageError(`Unexpected argument(s): ${positionals.join(' ')}`);
    const timeoutText = values['timeout-ms'];
    const timeoutMs = typeof timeoutText === 'string' ? Number(timeoutText) : 5_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout-ms must be a positive integer');
    const status = await withNats(global, (connection) => askEngine(global, () => pingEngine(connection, naming(global.namespace), timeoutMs)));
    const loop = status.eventLoop;
    if (global.json) {
      printJson({
        namespace: global.namespace,
        sagas: status.sagas,
        startedAt: isoTime(status.startedAt),
        instancesInMemory: status.instancesInMemory,
        ...(loop === undefined ? {} : { eventLoop: loop }),
        ...(status.engine === undefined ? {} : { engine: status.engine }),
      });
    } else {
      const share = loop === undefined ? null : eventLoopBusyShare(loop);
      const busy = share === null ? '' : `; event loop busy ${Math.round(100 * share)}% since start`;
      const engine = status.engine === undefined ? '' : ` (engine ${status.engine.id}, ${status.engine.partitions.length} partition(s); all engines: sagaflow cluster)`;
      print(`engine up in namespace ${global.namespace} since ${isoTime(status.startedAt)}${engine}: sagas ${status.sagas.join(', ')}; ${status.instancesInMemory} unfinished instance(s) in memory${busy}`);
    }
    return 0;
  },
};
