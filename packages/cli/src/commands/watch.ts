import * as E from 'fp-ts/lib/Either.js';
import { decodeRecorded, decodeStream, type EventStore, type RecordedEvent, type SagaStatus } from '@sagaflow/core';
import { globalHelp, integerOption, noPositionals, parseCommand, printedHelp, stringOption, type Command } from '../options.js';
import { humanTime, isoTime, paintStatus, palette, print, printJsonLine } from '../output.js';
import { withReadStore } from '../read-store.js';

const pageSize = 500;
const maxKnown = 100_000;

/** What watch knows of an instance it has seen. */
interface Known {
  readonly saga: string;
  status: SagaStatus;
}

/** One status change, as printed. */
export interface StatusChange {
  readonly at: number;
  readonly position: number;
  readonly revision: number;
  readonly instanceId: string;
  readonly saga: string;
  readonly from: SagaStatus | null;
  readonly to: SagaStatus;
  readonly event: string;
  readonly step: string | null;
}

/** `sagaflow watch`: follows the store's global order and prints every status change. */
export const watchCommand: Command = {
  name: 'watch',
  help: `Usage: sagaflow watch [--saga NAME] [--poll-ms N] [global options]

Prints a line each time an instance changes status (started, compensating, stuck, completed, …),
live, until Ctrl-C (SIGINT) or SIGTERM, then exits 0. Follows the store's global order of events
from its current end, polling; reads the store only (no NATS). With --json, one JSON object per
line (NDJSON). "watching …" goes to stderr once ready.

Options:
  --saga NAME   only instances of this saga
  --poll-ms N   how often to look for new events when there were none (default 500)

${globalHelp}

Examples:
  sagaflow watch
  sagaflow watch --saga order-fulfilment --json | jq -c 'select(.to == "stuck")'`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { saga: { type: 'string' }, 'poll-ms': { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const saga = stringOption(values, 'saga');
    const pollMs = integerOption(values, 'poll-ms', 500, 60_000);
    const colours = palette();

    let stopping = false;
    let wake: (() => void) | null = null;
    const stop = (): void => {
      stopping = true;
      wake?.();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const pause = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });

    await withReadStore(global.store, async (store) => {
      let position = await currentEnd(store);
      process.stderr.write(`watching ${saga === undefined ? 'all sagas' : `saga ${saga}`}: status changes after position ${position} (Ctrl-C to stop)\n`);
      const known = new Map<string, Known>();
      while (!stopping) {
        const page = await store.readAll(position, pageSize);
        for (const row of page) {
          position = row.position;
          const change = await statusChange(store, known, row);
          if (change === null || (saga !== undefined && change.saga !== saga)) continue;
          if (global.json) {
            printJsonLine({ ...change, at: isoTime(change.at) });
          } else {
            const from = change.from === null ? colours.dim('(new)') : paintStatus(colours, change.from);
            const step = change.step === null ? '' : `  ${change.step}`;
            print(`${humanTime(change.at)}  ${colours.bold(change.instanceId)}  ${change.saga}  ${from} → ${paintStatus(colours, change.to)}${step}  ${colours.dim(change.event)}`);
          }
        }
        if (page.length < pageSize && !stopping) await pause(pollMs);
      }
    });
    return 0;
  },
};

/**
 * The global position of the newest event, found without reading the whole log: the last event
 * of the most recently changed instance, then forward over whatever came after it.
 */
async function currentEnd(store: EventStore): Promise<number> {
  const [newest] = await store.listInstances({ limit: 1 });
  if (newest === undefined) return -1;
  const stream = await store.readStream(newest.instanceId);
  let position = stream.at(-1)?.position ?? -1;
  for (;;) {
    const page = await store.readAll(position, pageSize);
    const last = page.at(-1);
    if (last === undefined) return position;
    position = last.position;
    if (page.length < pageSize) return position;
  }
}

/** The status change an event makes, or `null`; learns an instance's saga and status on first sight. */
async function statusChange(store: EventStore, known: Map<string, Known>, row: RecordedEvent): Promise<StatusChange | null> {
  const decoded = decodeRecorded(row);
  if (E.isLeft(decoded)) {
    process.stderr.write(`sagaflow: skipping an unreadable event: ${decoded.left.message}\n`);
    return null;
  }
  const event = decoded.right;
  let instance = known.get(row.instanceId);
  if (instance === undefined) {
    if (event.type === 'SagaStarted' || event.type === 'SagaPrepared') {
      instance = { saga: event.saga, status: event.status };
      known.set(row.instanceId, instance);
      return { at: event.at, position: row.position, revision: row.revision, instanceId: row.instanceId, saga: event.saga, from: null, to: event.status, event: event.type, step: null };
    }
    // First seen mid-stream: its saga and the status before this event come from its own stream.
    const before = decodeStream((await store.readStream(row.instanceId)).filter((earlier) => earlier.revision < row.revision));
    const history = E.isRight(before) ? before.right : [];
    const started = history[0];
    instance = { saga: started?.type === 'SagaStarted' || started?.type === 'SagaPrepared' ? started.saga : '?', status: history.at(-1)?.status ?? event.status };
    known.set(row.instanceId, instance);
  }
  if (instance.status === event.status) return null;
  const change: StatusChange = {
    at: event.at,
    position: row.position,
    revision: row.revision,
    instanceId: row.instanceId,
    saga: instance.saga,
    from: instance.status,
    to: event.status,
    event: event.type,
    step: 'step' in event && typeof event.step === 'string' ? event.step : null,
  };
  instance.status = event.status;
  // Bounded memory on a busy store: forget the longest-known instances (a forgotten one is looked up again).
  if (known.size > maxKnown) for (const id of [...known.keys()].slice(0, maxKnown / 10)) known.delete(id);
  return change;
}
