import * as E from 'fp-ts/lib/Either.js';
import { decodeStream, sagaError } from '@sagaflow/core';
import { OperationError } from '../cli-error.js';
import { globalHelp, onePositional, parseCommand, printedHelp, type Command } from '../options.js';
import { compactJson, humanTime, isoTime, paintStatus, palette, parseStored, print, printJson, table, timeOfDay, type Palette } from '../output.js';
import { withReadStore } from '../read-store.js';
import { formatAge, formatDuration, instanceHistory, type FailureView, type StepAttempt, type TimelineEntry, instanceJson } from '@sagaflow/inspect';

/** `sagaflow show ID`: one instance and its timeline. */
export const showCommand: Command = {
  name: 'show',
  help: `Usage: sagaflow show ID [global options]

Shows one saga instance: saga and version, status, machine state, current step, what made it
compensate or get stuck, its input, and its timeline: every event with its time (UTC), type,
step, attempt, outcome or error, and for each reply, timeout or dead letter the time since its
dispatch. Compensation events are marked "compensation"; operator interventions show who did
what and why. Reads the store only (no NATS, no saga files, no replay).

An unknown id, or an instance whose stored events cannot be decoded, exits 1 with one line.

${globalHelp}

Examples:
  sagaflow show order-42
  sagaflow show order-42 --json | jq '.timeline[] | select(.compensation)'
  sagaflow show order-42 --store sqlite:/var/lib/sagaflow/sagaflow.db`,
  async run(argv) {
    const { global, positionals } = parseCommand(argv, {});
    if (printedHelp(global, this)) return 0;
    const instanceId = onePositional(positionals, 'ID', 'sagaflow show ID');
    const { summary, recorded } = await withReadStore(global.store, async (store) => {
      const row = await store.getInstance(instanceId);
      return { summary: row, recorded: row === undefined ? [] : await store.readStream(instanceId) };
    });
    if (summary === undefined || recorded.length === 0) throw new OperationError(sagaError.instanceNotFound(instanceId).message);
    const decoded = decodeStream(recorded);
    if (E.isLeft(decoded)) throw new OperationError(decoded.left.message);
    const history = instanceHistory(recorded, decoded.right);

    if (global.json) {
      printJson({
        ...instanceJson(summary),
        input: history.input,
        traceId: history.trace?.traceId ?? null,
        failure: history.failure === null ? null : failureJson(history.failure),
        stuck: history.stuck === null ? null : { kind: history.stuck.kind, ...failureJson(history.stuck) },
        timeline: history.timeline.map(entryJson),
        stepAttempts: history.attempts.map(attemptJson),
      });
      return 0;
    }

    const colours = palette();
    const now = Date.now();
    const facts: [string, string][] = [
      ['status', paintStatus(colours, summary.status)],
      ['state', compactJson(parseStored(summary.state))],
      ['current step', summary.currentStep === null ? '-' : `${summary.currentStep} (attempt ${summary.attempts})`],
      ['started', `${humanTime(summary.startedAt)} (${formatAge(now - summary.startedAt)} ago)`],
      ['last change', `${humanTime(summary.updatedAt)} (${formatAge(now - summary.updatedAt)} ago), revision ${summary.revision}`],
    ];
    if (history.trace !== null) facts.push(['trace', history.trace.traceId]);
    if (history.failure !== null) facts.push(['failure', colours.yellow(failureLine(history.failure))]);
    if (history.stuck !== null) facts.push(['stuck on', colours.red(`${history.stuck.kind === 'compensation' ? 'compensation of ' : ''}${failureLine(history.stuck)}`)]);
    print(`${colours.bold(summary.instanceId)}  ${summary.saga} v${summary.version}`);
    for (const [label, value] of facts) print(`  ${label.padEnd(13)}${value}`);
    print(`  ${'input'.padEnd(13)}${indent(JSON.stringify(history.input, null, 2) ?? 'null', 15)}`);
    print();
    const days = new Set(history.timeline.map((entry) => new Date(entry.at).toISOString().slice(0, 10)));
    const when = (at: number): string => (days.size > 1 ? humanTime(at).replace('Z', '') + `.${String(at % 1000).padStart(3, '0')}Z` : timeOfDay(at));
    print(colours.bold(`Timeline${days.size === 1 ? ` (${[...days][0] ?? ''}, UTC)` : ' (UTC)'}`));
    print(
      table(
        colours,
        ['REV', 'TIME', 'EVENT', 'KIND', 'STEP', 'ATT', 'OUTCOME', 'TOOK', 'STATUS'],
        history.timeline.map((entry) => {
          const paint = entry.kind === 'compensation' ? colours.yellow : entry.kind === 'operator' ? colours.cyan : (text: string) => text;
          return [
            String(entry.revision),
            when(entry.at),
            paint(entry.type),
            paint(kindLabel[entry.kind]),
            entry.step ?? '',
            entry.attempt === null ? '' : String(entry.attempt),
            outcomeText(entry, colours),
            entry.durationMs === null ? '' : formatDuration(entry.durationMs),
            entry.statusChanged ? paintStatus(colours, entry.status) : '',
          ];
        }),
        ['right', 'left', 'left', 'left', 'left', 'right', 'left', 'right', 'left'],
      ),
    );
    return 0;
  },
};

const kindLabel: Record<TimelineEntry['kind'], string> = {
  saga: 'saga',
  action: 'step',
  compensation: 'compensation',
  timer: 'timer',
  operator: 'operator',
};

function outcomeText(entry: TimelineEntry, colours: Palette): string {
  switch (entry.outcome) {
    case 'failed':
      return colours.red(`failed: ${entry.error?.code ?? '?'}: ${entry.error?.message ?? ''}${entry.error?.retryable === false ? ' (not retryable)' : ''}`);
    case 'timedOut':
      return colours.red('timed out');
    case 'deadLettered':
      return colours.red(`dead-lettered: ${entry.error?.message ?? ''}`);
    case 'retryScheduled':
      return `retry in ${formatDuration(entry.timer?.delayMs ?? 0)}`;
    case 'timerScheduled':
      return `${timerLabel(entry.timer?.purpose)} in ${formatDuration(entry.timer?.delayMs ?? 0)}`;
    case 'timerFired':
      return `${timerLabel(entry.timer?.purpose)} fired`;
    case 'intervened':
      return colours.cyan(`${entry.operator?.action ?? '?'} by ${entry.operator?.by ?? '?'}: ${entry.operator?.reason ?? ''}`);
    case 'confirmed':
      return `confirmed by ${entry.operator?.by ?? '?'}`;
    case 'cancelled':
      return `cancelled by ${entry.operator?.by ?? '?'}: ${entry.operator?.reason ?? ''}`;
    case 'checkBackRequested':
      return 'check-back requested';
    case 'stuck':
      return colours.red(`stuck${entry.error === null ? '' : `: ${entry.error.code}: ${entry.error.message}`}`);
    default:
      return entry.outcome;
  }
}

const timerLabel = (purpose: string | undefined): string =>
  purpose === 'stepTimeout' || purpose === 'compensationTimeout'
    ? 'timeout'
    : purpose === 'stepRetry' || purpose === 'compensationRetry' || purpose === 'checkBackRetry'
      ? 'retry timer'
      : purpose === undefined || purpose === 'custom'
        ? 'timer'
        : `${purpose} timer`;

const failureLine = (failure: FailureView): string => `${failure.step ?? '?'}: ${failure.code}: ${failure.message}`;

const indent = (text: string, spaces: number): string => text.split('\n').join(`\n${' '.repeat(spaces)}`);

const failureJson = (failure: FailureView) => ({ step: failure.step, code: failure.code, message: failure.message, at: isoTime(failure.at) });

const entryJson = (entry: TimelineEntry) => ({
  revision: entry.revision,
  position: entry.position,
  at: isoTime(entry.at),
  recordedAt: isoTime(entry.recordedAt),
  type: entry.type,
  status: entry.status,
  statusChanged: entry.statusChanged,
  kind: entry.kind,
  compensation: entry.compensation,
  step: entry.step,
  attempt: entry.attempt,
  effectId: entry.effectId,
  outcome: entry.outcome,
  error: entry.error,
  durationMs: entry.durationMs,
  operator: entry.operator,
  timer: entry.timer === null ? null : { timerId: entry.timer.timerId, purpose: entry.timer.purpose, dueAt: isoTime(entry.timer.dueAt), delayMs: entry.timer.delayMs },
  payload: entry.payload,
});

const attemptJson = (attempt: StepAttempt) => ({
  step: attempt.step,
  kind: attempt.kind,
  attempt: attempt.attempt,
  effectId: attempt.effectId,
  dispatchedAt: isoTime(attempt.dispatchedAt),
  endedAt: attempt.endedAt === null ? null : isoTime(attempt.endedAt),
  outcome: attempt.outcome,
  durationMs: attempt.durationMs,
  error: attempt.error,
});
