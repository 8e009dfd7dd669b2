import * as E from 'fp-ts/lib/Either.js';
import { decodeStream, sagaStatuses, type InstanceFilter, type SagaStatus } from '@sagaflow/core';
import { UsageError } from '../cli-error.js';
import { globalHelp, integerOption, noPositionals, parseCommand, printedHelp, stringOption, type Command } from '../options.js';
import { isoTime, palette, print, printJson, table } from '../output.js';
import { withReadStore } from '../read-store.js';
import { formatDuration, parseDuration, StatsCollector, type SagaStats } from '@sagaflow/inspect';

const defaultWindow = 1_000;
const maxWindow = 1_000_000;

/** `sagaflow stats`: figures over the most recently changed instances. */
export const statsCommand: Command = {
  name: 'stats',
  help: `Usage: sagaflow stats [--saga NAME] [--since DURATION] [--window N] [global options]

Counts instances per saga and status, and from their events: step latency percentiles (p50, p95,
p99, max of dispatch → success, per step and per compensation), the retry rate (retries / attempts
of forward steps) and the compensation rate (instances that compensated, or began to / instances).

Reading events costs one read per instance, so stats covers a window: the N most recently changed
instances (default ${defaultWindow}). The output says when the window cut the store short (older instances
are then not counted); widen it with --window, or narrow the question with --saga / --since.
Reads the store only (no NATS).

Options:
  --saga NAME        only this saga
  --since DURATION   only instances changed within this time: 90s, 15m, 2h, 7d, 1w
  --window N         at most N instances, most recently changed first (default ${defaultWindow}, at most ${maxWindow})

${globalHelp}

Examples:
  sagaflow stats
  sagaflow stats --saga order-fulfilment --since 1h
  sagaflow stats --window 20000 --json | jq '.sagas[].steps[] | {step, p99: .latencyMs.p99}'`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, { saga: { type: 'string' }, since: { type: 'string' }, window: { type: 'string' } });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const saga = stringOption(values, 'saga');
    const sinceText = stringOption(values, 'since');
    const since = sinceText === undefined ? undefined : parseDuration(sinceText);
    if (sinceText !== undefined && since === undefined) throw new UsageError(`--since takes a duration such as 90s, 15m, 2h, 7d or 1w, not "${sinceText}"`);
    const window = integerOption(values, 'window', defaultWindow, maxWindow);
    const now = Date.now();
    const filter: InstanceFilter = {
      ...(saga === undefined ? {} : { saga }),
      ...(since === undefined ? {} : { updatedSince: now - since }),
      limit: window + 1,
    };
    const collector = new StatsCollector();
    const unreadable: string[] = [];
    const { read, capped } = await withReadStore(global.store, async (store) => {
      const rows = await store.listInstances(filter);
      const inWindow = rows.slice(0, window);
      for (const row of inWindow) {
        const decoded = decodeStream(await store.readStream(row.instanceId));
        if (E.isLeft(decoded)) unreadable.push(row.instanceId);
        collector.add(row, E.isRight(decoded) ? decoded.right : null);
      }
      return { read: inWindow, capped: rows.length > window };
    });
    const { sagas, total } = collector.result();
    const oldest = read.at(-1);
    const newest = read[0];

    if (global.json) {
      printJson({
        window: {
          limit: window,
          instances: read.length,
          capped,
          saga: saga ?? null,
          since: since === undefined ? null : isoTime(now - since),
          oldestChange: oldest === undefined ? null : isoTime(oldest.updatedAt),
          newestChange: newest === undefined ? null : isoTime(newest.updatedAt),
        },
        total,
        sagas,
        unreadable,
      });
      return 0;
    }

    const colours = palette();
    const scope = `${saga === undefined ? '' : `saga ${saga}, `}${since === undefined ? '' : `changed in the last ${sinceText ?? ''}, `}`;
    if (read.length === 0) {
      print(colours.dim(`No saga instances${scope === '' ? '' : ` (${scope.slice(0, -2)})`}.`));
      return 0;
    }
    print(
      capped
        ? colours.yellow(`Over the ${read.length} most recently changed instances (${scope}window capped at --window ${window}: older instances are not counted)`)
        : `Over all ${read.length} instance(s)${scope === '' ? '' : ` (${scope.slice(0, -2)})`}`,
    );
    const shownStatuses = sagaStatuses.filter((status) => (total.byStatus[status] ?? 0) > 0);
    const countRow = (name: string, figures: Omit<SagaStats, 'saga' | 'steps'>): string[] => [
      name,
      String(figures.instances),
      ...shownStatuses.map((status: SagaStatus) => String(figures.byStatus[status] ?? 0)),
      percent(figures.retryRate),
      percent(figures.compensationRate),
    ];
    print(
      table(
        colours,
        ['SAGA', 'INSTANCES', ...shownStatuses.map((status) => status.toUpperCase()), 'RETRY RATE', 'COMPENSATION RATE'],
        [...sagas.map((figures) => countRow(figures.saga, figures)), ...(sagas.length > 1 ? [countRow('(all)', total)] : [])],
        ['left', 'right', ...shownStatuses.map(() => 'right' as const), 'right', 'right'],
      ),
    );
    const stepRows = sagas.flatMap((figures) =>
      figures.steps.map((step) => [
        figures.saga,
        step.step,
        step.kind === 'compensation' ? colours.yellow('compensation') : 'step',
        String(step.attempts),
        String(step.retries),
        String(step.succeeded),
        String(step.failed),
        String(step.timedOut + step.deadLettered),
        ms(step.latencyMs?.p50),
        ms(step.latencyMs?.p95),
        ms(step.latencyMs?.p99),
        ms(step.latencyMs?.max),
      ]),
    );
    if (stepRows.length > 0) {
      print();
      print(colours.bold('Steps: attempts and latency (dispatch → success)'));
      print(
        table(
          colours,
          ['SAGA', 'STEP', 'KIND', 'ATTEMPTS', 'RETRIES', 'OK', 'FAILED', 'LOST', 'P50', 'P95', 'P99', 'MAX'],
          stepRows,
          ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
        ),
      );
      print(colours.dim('LOST: timed out or dead-lettered attempts.'));
    }
    if (unreadable.length > 0) print(colours.red(`${unreadable.length} instance(s) with unreadable events counted by status only: ${unreadable.slice(0, 5).join(', ')}${unreadable.length > 5 ? ', …' : ''}`));
    return 0;
  },
};

const percent = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);
const ms = (value: number | undefined): string => (value === undefined ? '-' : formatDuration(value));
