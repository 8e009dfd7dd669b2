import { sagaStatuses } from '@sagaflow/core';
import { UsageError } from '../cli-error.js';
import { globalHelp, listOption, noPositionals, parseCommand, printedHelp, stringOption, type Command } from '../options.js';
import { humanTime, isoTime, paintStatus, palette, print, printJson, table } from '../output.js';
import { withReadStore } from '../read-store.js';
import { cursorOf, formatAge, instanceJson, listLimits, listQueryOf } from '@sagaflow/inspect';

/** `sagaflow list`: the listing rows of the store, newest change first. */
export const listCommand: Command = {
  name: 'list',
  help: `Usage: sagaflow list [--saga NAME] [--status STATUS]... [--since DURATION] [--prefix ID] [--limit N] [--after CURSOR] [global options]

Lists saga instances, most recently changed first: id, saga, version, status, current step,
attempts, age (since start) and last change (UTC). Reads the store's listing (indexed, one page),
never the events, so it answers at once on large stores. Needs no NATS and no saga files.

Options:
  --saga NAME         only instances of this saga
  --status STATUS     only instances in this status; repeat or comma-separate for several
                      (${sagaStatuses.join(', ')})
  --since DURATION    only instances changed within this time: 90s, 15m, 2h, 7d, 1w, 1h30m
  --prefix ID         only instances whose id starts with ID
  --limit N           at most N rows (default ${listLimits.default}, at most ${listLimits.max})
  --after CURSOR      the page after this cursor ("next" in --json output, or the footer)

${globalHelp}

Examples:
  sagaflow list
  sagaflow list --status stuck
  sagaflow list --saga order-fulfilment --status running,compensating --since 2h --limit 20
  sagaflow list --status stuck --json | jq -r '.instances[].instanceId'`,
  async run(argv) {
    const { global, values, positionals } = parseCommand(argv, {
      saga: { type: 'string' },
      status: { type: 'string', multiple: true },
      since: { type: 'string' },
      prefix: { type: 'string' },
      limit: { type: 'string' },
      after: { type: 'string' },
    });
    if (printedHelp(global, this)) return 0;
    noPositionals(positionals);
    const now = Date.now();
    const afterText = stringOption(values, 'after');
    const asked = listQueryOf(
      { saga: stringOption(values, 'saga'), statuses: listOption(values, 'status'), since: stringOption(values, 'since'), prefix: stringOption(values, 'prefix'), limit: stringOption(values, 'limit'), after: afterText },
      now,
    );
    if (!asked.ok) throw new UsageError(asked.error.problem);
    const { filter, limit, statuses } = asked.query;
    const saga = filter.saga;
    const since = filter.updatedSince;
    const rows = await withReadStore(global.store, (store) => store.listInstances(filter));
    const shown = rows.slice(0, limit);
    const more = rows.length > limit;
    const last = shown.at(-1);
    const next = more && last !== undefined ? cursorOf(last) : null;

    if (global.json) {
      printJson({
        instances: shown.map(instanceJson),
        count: shown.length,
        limit,
        more,
        next,
        filter: {
          saga: saga ?? null,
          statuses,
          since: since === undefined ? null : isoTime(since),
          prefix: filter.idPrefix ?? null,
          after: afterText ?? null,
        },
      });
      return 0;
    }
    const colours = palette();
    if (shown.length === 0) {
      print(colours.dim(afterText === undefined ? 'No saga instances match.' : 'No more saga instances match.'));
      return 0;
    }
    print(
      table(
        colours,
        ['ID', 'SAGA', 'VER', 'STATUS', 'CURRENT STEP', 'ATT', 'AGE', 'LAST CHANGE'],
        shown.map((row) => [
          row.instanceId,
          row.saga,
          String(row.version),
          paintStatus(colours, row.status),
          row.currentStep ?? '-',
          String(row.attempts),
          formatAge(now - row.startedAt),
          humanTime(row.updatedAt),
        ]),
        ['left', 'left', 'right', 'left', 'left', 'right', 'right', 'left'],
      ),
    );
    if (next !== null) print(colours.dim(`${shown.length} shown, more match: --limit N, or the next page with --after ${next}`));
    return 0;
  },
};
