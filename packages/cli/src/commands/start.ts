import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { jetstream } from '@nats-io/jetstream';
import { decodeWith, formatProblems } from '@sagaflow/core';
import { naming, requestStart } from '@sagaflow/nats';
import { OperationError, UsageError } from '../cli-error.js';
import { loadSagas } from '../load-sagas.js';
import { withNats } from '../nats-client.js';
import { globalHelp, parseCommand, printedHelp, stringOption, type Command } from '../options.js';
import { printJson } from '../output.js';

/** `sagaflow start`: asks the engine to start an instance. */
export const startCommand: Command = {
  name: 'start',
  help: `Usage: sagaflow start SAGA --input JSON|@FILE [--id ID] [global options]

Checks the input against the saga's codec (loaded from --sagas), then sends a start request to the
engine over NATS (stored by JetStream; the instance id deduplicates, so repeating the command
starts it once). Prints the instance id. The engine need not be running: it takes the request
when it starts. It must have run once in the namespace, though, to create the streams that store
requests; until then the request is refused (exit 1).

Options:
  --input JSON|@FILE  the saga input, inline JSON or @path/to/file.json
  --id ID             instance id (default: <saga>-<random uuid>)

Input that is not JSON (or a file that cannot be read) is a usage error (exit 2); JSON that the
saga's codec refuses, or an unknown saga, exits 1.

${globalHelp}

Examples:
  sagaflow start order-fulfilment --input @order.json
  sagaflow start order-fulfilment --id order-42 --input '{"orderId":"42", ...}' --json`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { input: { type: 'string' }, id: { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    const [saga, ...extra] = positionals;
    if (saga === undefined) throw new UsageError('Missing SAGA: sagaflow start SAGA --input JSON|@FILE');
    if (extra.length > 0) throw new UsageError(`Unexpected argument(s): ${extra.join(' ')}`);
    const inputText = stringOption(values, 'input');
    if (inputText === undefined) throw new UsageError('Missing --input JSON|@FILE');
    const input = parseInput(inputText);
    const id = stringOption(values, 'id');
    if (id === '') throw new UsageError('--id must not be empty');
    const registry = await loadSagas(global.sagas);
    const definition = registry.latest(saga);
    if (definition === undefined) throw new OperationError(`Unknown saga "${saga}"; known: ${registry.list().join(', ')}`);
    const decoded = decodeWith(definition.input, input);
    if (E.isLeft(decoded)) throw new OperationError(`Invalid input for saga "${saga}": ${formatProblems(decoded.left)}`);
    const instanceId = id ?? `${saga}-${randomUUID()}`;
    await withNats(global, (connection) => requestStart(jetstream(connection), naming(global.namespace), { saga, instanceId, input }));
    if (global.json) printJson({ instanceId, saga, version: definition.version });
    else process.stdout.write(`${instanceId}\n`);
    return 0;
  },
};

function parseInput(text: string): unknown {
  let source = text;
  let where = '--input';
  if (text.startsWith('@')) {
    where = `Input file ${text.slice(1)}`;
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (error) {
      throw new UsageError(`Cannot read input file ${text.slice(1)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    throw new UsageError(`${where} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
