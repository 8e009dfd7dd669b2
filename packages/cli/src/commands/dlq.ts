import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeadLetterGoneError, deadLetterOrGone, dropDeadLetter, listDeadLetters, naming, payloadView, replayDeadLetter, type DeadLetter, type Naming } from '@sagaflow/nats';
import { OperationError, UsageError } from '../cli-error.js';
import { natsUrlForPeople, withNats } from '../nats-client.js';
import { globalHelp, integerOption, parseCommand, printedHelp, stringOption, type Command, type GlobalOptions } from '../options.js';
import { humanTime, isoTime, palette, print, printJson, table } from '../output.js';

const subcommands = ['list', 'show', 'replay', 'drop'] as const;
type Subcommand = (typeof subcommands)[number];

/** `sagaflow dlq list|show|replay|drop`: the dead-letter stream of a namespace. */
export const dlqCommand: Command = {
  name: 'dlq',
  help: `Usage: sagaflow dlq list [--limit N] [--after SEQ] [global options]
       sagaflow dlq show SEQ [global options]
       sagaflow dlq replay SEQ [global options]
       sagaflow dlq drop SEQ [global options]

Dead letters are messages given up on (undecodable, or delivered too often without
acknowledgement), kept intact in the <NS>_DLQ stream with why (docs/nats.md, "Dead letters").
A letter is named by its sequence in that stream (SEQ). Needs NATS, not the store.

  list     letters in order of arrival: sequence, time, origin subject, instance, deliveries, reason
           --limit N (default 100), --after SEQ (letters after this sequence)
  show     one letter: reason, deliveries, origin (subject, stream, sequence), instance and effect
           if known, every header, and the payload (UTF-8 text if printable, else hex)
  replay   publishes the letter's payload and original headers to its origin subject again (with
           Nats-Msg-Id "replay:<SEQ>", so JetStream stores it once even if replay is repeated
           within its 2-minute duplicate window), then deletes the letter. Replaying a letter that
           is already gone (replayed or dropped) changes nothing and exits 1.
  drop     deletes the letter. Dropping one that is already gone exits 1.

A dead-lettered command stops its instance as stuck; the engine does not wait for it any more,
so replaying it does not unstick the instance: repair the instance with "sagaflow retry" (or
"skip"), and drop the letter. Replay is for messages nobody tracks (start requests, replies,
commands of other tools) once their cause is fixed.

${globalHelp}

Examples:
  sagaflow dlq list
  sagaflow dlq show 12
  sagaflow dlq show 12 --json | jq -r .payload.text
  sagaflow dlq replay 12
  sagaflow dlq drop 12 --namespace shop`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { limit: { type: 'string' }, after: { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    const [sub, ...rest] = positionals;
    if (sub === undefined) throw new UsageError('Missing subcommand: sagaflow dlq list|show|replay|drop');
    if (!(subcommands as readonly string[]).includes(sub)) throw new UsageError(`Unknown dlq subcommand "${sub}": use ${subcommands.join(', ')}`);
    const subcommand = sub as Subcommand;
    if (subcommand === 'list') {
      if (rest.length > 0) throw new UsageError(`Unexpected argument(s): ${rest.join(' ')}`);
      const limit = integerOption(values, 'limit', 100, 10_000);
      const afterText = stringOption(values, 'after');
      const after = afterText === undefined ? 0 : sequenceOf(afterText, '--after');
      return withDeadLetters(global, (dlq) => list(global, dlq, limit, after));
    }
    for (const name of ['limit', 'after']) if (values[name] !== undefined) throw new UsageError(`--${name} belongs to "dlq list", not "dlq ${subcommand}"`);
    const [seqText, ...extra] = rest;
    if (seqText === undefined) throw new UsageError(`Missing SEQ: sagaflow dlq ${subcommand} SEQ`);
    if (extra.length > 0) throw new UsageError(`Unexpected argument(s): ${extra.join(' ')}`);
    const seq = sequenceOf(seqText, 'SEQ');
    return withDeadLetters(global, async (dlq) => {
      switch (subcommand) {
        case 'show':
          return show(global, dlq, seq);
        case 'replay':
          return replay(global, dlq, seq);
        case 'drop':
          return drop(global, dlq, seq);
      }
    });
  },
};

/** What every subcommand works with. */
interface DeadLetters {
  readonly connection: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly names: Naming;
  readonly stream: string;
  readonly info: StreamInfo;
}

function sequenceOf(text: string, what: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || (value < 1 && what === 'SEQ')) throw new UsageError(`${what} must be a dead letter's sequence number (a positive integer), not "${text}"`);
  return value;
}

async function withDeadLetters(global: GlobalOptions, work: (dlq: DeadLetters) => Promise<number>): Promise<number> {
  return withNats(global, async (connection) => {
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(connection);
    } catch (error) {
      throw new OperationError(`JetStream is not available at ${natsUrlForPeople(global)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const names = naming(global.namespace);
    const stream = names.streams.deadLetters;
    let info: StreamInfo;
    try {
      info = await jsm.streams.info(stream);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
        throw new OperationError(
          `No dead-letter stream ${stream} at ${natsUrlForPeople(global)}: nothing has run in namespace "${global.namespace}" (check --namespace)`,
        );
      }
      throw error;
    }
    return work({ connection, jsm, names, stream, info });
  });
}

/** The letter, or exit 1 saying whether it is gone (replayed or dropped) or never was. */
async function letterOrFail(dlq: DeadLetters, seq: number): Promise<DeadLetter> {
  try {
    return await deadLetterOrGone(dlq.jsm, dlq.names, seq);
  } catch (error) {
    throw error instanceof DeadLetterGoneError ? new OperationError(error.message) : error;
  }
}

const letterJson = (letter: DeadLetter) => ({
  sequence: letter.sequence,
  reason: letter.reason,
  deliveries: letter.deliveries,
  deadAt: letter.deadAt > 0 ? isoTime(letter.deadAt) : null,
  originSubject: letter.originSubject,
  originStream: letter.originStream,
  originSequence: letter.originSequence,
  instanceId: letter.instanceId,
  effectId: letter.effectId,
  size: letter.data.length,
});

async function list(global: GlobalOptions, dlq: DeadLetters, limit: number, after: number): Promise<number> {
  const letters = await listDeadLetters(dlq.jsm, dlq.names, { after, limit: limit + 1 });
  const shown = letters.slice(0, limit);
  const more = letters.length > limit;
  const next = more ? (shown.at(-1)?.sequence ?? null) : null;
  if (global.json) {
    printJson({ stream: dlq.stream, letters: shown.map(letterJson), count: shown.length, more, next });
    return 0;
  }
  const colours = palette();
  if (shown.length === 0) {
    print(colours.dim(`No dead letters in ${dlq.stream}${after > 0 ? ` after ${after}` : ''}.`));
    return 0;
  }
  print(
    table(
      colours,
      ['SEQ', 'DEAD AT', 'ORIGIN', 'INSTANCE', 'DELIVERIES', 'REASON'],
      shown.map((letter) => [
        String(letter.sequence),
        letter.deadAt > 0 ? humanTime(letter.deadAt) : '-',
        letter.originSubject,
        letter.instanceId ?? '-',
        String(letter.deliveries),
        letter.reason.length > 100 ? `${letter.reason.slice(0, 99)}…` : letter.reason,
      ]),
      ['right', 'left', 'left', 'left', 'right', 'left'],
    ),
  );
  if (next !== null) print(colours.dim(`${shown.length} shown, more: sagaflow dlq list --after ${next}`));
  return 0;
}

async function show(global: GlobalOptions, dlq: DeadLetters, seq: number): Promise<number> {
  const letter = await letterOrFail(dlq, seq);
  const payload = payloadView(letter.data);
  if (global.json) {
    printJson({ ...letterJson(letter), stream: dlq.stream, headers: letter.headers, payload });
    return 0;
  }
  const colours = palette();
  const facts: [string, string][] = [
    ['reason', colours.red(letter.reason)],
    ['deliveries', String(letter.deliveries)],
    ['dead at', letter.deadAt > 0 ? humanTime(letter.deadAt) : '-'],
    ['origin', `${letter.originSubject}${letter.originStream === null ? '' : ` (stream ${letter.originStream}${letter.originSequence === null ? '' : `, sequence ${letter.originSequence}`})`}`],
    ['instance', letter.instanceId ?? '-'],
    ['effect', letter.effectId ?? '-'],
  ];
  print(colours.bold(`Dead letter ${letter.sequence} in ${dlq.stream}`));
  for (const [label, value] of facts) print(`  ${label.padEnd(12)}${value}`);
  print(`  ${'headers'.padEnd(12)}${Object.keys(letter.headers).length === 0 ? '-' : ''}`);
  for (const [name, valuesOf] of Object.entries(letter.headers)) for (const value of valuesOf) print(`    ${colours.dim(`${name}:`)} ${value}`);
  print(`  ${`payload`.padEnd(12)}${payload.size} bytes, ${payload.encoding === 'utf8' ? 'UTF-8 text' : 'binary, shown as hex'}`);
  print(payload.text.split('\n').map((text) => `    ${text}`).join('\n'));
  return 0;
}

async function replay(global: GlobalOptions, dlq: DeadLetters, seq: number): Promise<number> {
  let replayed;
  try {
    replayed = await replayDeadLetter(jetstream(dlq.connection), dlq.jsm, dlq.names, seq);
  } catch (error) {
    if (error instanceof DeadLetterGoneError) throw new OperationError(error.message);
    throw new OperationError(error instanceof Error ? error.message : String(error));
  }
  if (global.json) {
    printJson({ ...replayed, deleted: true });
    return 0;
  }
  print(
    `Replayed dead letter ${seq} to ${replayed.replayedTo} (stream ${replayed.stream}, sequence ${replayed.streamSequence}${replayed.duplicate ? ', already there from an earlier replay' : ''}); letter deleted`,
  );
  return 0;
}

async function drop(global: GlobalOptions, dlq: DeadLetters, seq: number): Promise<number> {
  await dropDeadLetter(dlq.jsm, dlq.names, seq).catch((error: unknown) => {
    throw error instanceof DeadLetterGoneError ? new OperationError(error.message) : error;
  });
  if (global.json) printJson({ sequence: seq, dropped: true });
  else print(`Dropped dead letter ${seq} from ${dlq.stream}`);
  return 0;
}
