import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { jetstream } from '@nats-io/jetstream';
import { decodeWith, formatProblems } from '@sagaflow/core';
import { connectNats, naming, requestStart } from '@sagaflow/nats';
import { OperationError, UsageError } from '../cli-error.js';
import { loadSagas } from '../load-sagas.js';
import { globalHelp, parseCommand, type Command } from '../options.js';

/** `sagaflow start`: asks the engine to start an instance. */
export const startCommand: Command = {
  name: 'start',
  summary: 'start a saga instance',
  help: `Usage: sagaflow start SAGA --input JSON|@FILE [--id ID] [global options]

Checks the input against the saga's codec, then sends a start request to the engine over NATS
(stored by JetStream; the instance id deduplicates, so repeating the command starts it once).
Prints the instance id.

Options:
  --input JSON|@FILE  the saga input, inline JSON or @path/to/file.json
  --id ID             instance id (default: <saga>-<random uuid>)

${globalHelp}

Examples:
  sagaflow start order-fulfilment --input @order.json
  sagaflow start order-fulfilment --id order-42 --input '{"orderId":"42", ...}' --json`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { input: { type: 'string' }, id: { type: 'string' } });
    if (global.help) {
      process.stdout.write(`${this.help}\n`);
      return 0;
    }
    const [saga, ...extra] = positionals;
    if (saga === undefined) throw new UsageError('Missing SAGA: sagaflow start SAGA --input JSON|@FILE');
    if (extra.length > 0) throw new UsageError(`Unexpected argument(s): ${extra.join(' ')}`);
    if (typeof values.input !== 'string') throw new UsageError('Missing --input JSON|@FILE');
    const input = parseInput(values.input);
    const registry = await loadSagas(global.sagas);
    const definition = registry.latest(saga);
    if (definition === undefined) throw new OperationError(`Unknown saga "${saga}"; known: ${registry.list().join(', ')}`);
    const decoded = decodeWith(definition.input, input);
    if (E.isLeft(decoded)) throw new OperationError(`Invalid input for saga "${saga}": ${formatProblems(decoded.left)}`);
    const instanceId = typeof values.id === 'string' ? values.id : `${saga}-${randomUUID()}`;
    const connection = await connectNats({ ...global.nats, name: 'sagaflow-cli' });
    try {
      await requestStart(jetstream(connection), naming(global.namespace), { saga, instanceId, input });
    } finally {
      await connection.close();
    }
    process.stdout.write(global.json ? `${JSON.stringify({ instanceId, saga, version: definition.version })}\n` : `${instanceId}\n`);
    return 0;
  },
};

function parseInput(text: string): unknown {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (error) {
      throw new OperationError(`Cannot read input file ${text.slice(1)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    throw new OperationError(`Input is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
