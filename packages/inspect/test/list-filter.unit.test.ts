/** A listing request read into the store's filter, as the command and the console both read it; each wrong part named. */
import { describe, expect, it } from 'vitest';
import { cursorOf, listQueryOf } from '../src/list-filter.js';

const now = Date.parse('2026-12-06T12:00:00Z');

describe('listQueryOf', () => {
  it('reads every part into the filter, asking the store for one row more than the page', () => {
    const asked = listQueryOf(
      {
        saga: 'trip',
        statuses: ['running,stuck', 'compensating'],
        since: '2h',
        changedFrom: '2026-12-06T11:00:00Z',
        changedTo: '2026-12-06T11:30:00Z',
        startedFrom: '2026-12-05T00:00:00Z',
        startedTo: '2026-12-06T00:00:00Z',
        prefix: 'trip-1',
        limit: '20',
        after: '1733400000000:trip-17',
      },
      now,
    );
    expect(asked).toEqual({
      ok: true,
      query: {
        limit: 20,
        statuses: ['running', 'stuck', 'compensating'],
        filter: {
          saga: 'trip',
          statuses: ['running', 'stuck', 'compensating'],
          // The later of "within 2 h" (10:00) and the explicit 11:00.
          updatedSince: Date.parse('2026-12-06T11:00:00Z'),
          updatedBefore: Date.parse('2026-12-06T11:30:00Z'),
          startedSince: Date.parse('2026-12-05T00:00:00Z'),
          startedBefore: Date.parse('2026-12-06T00:00:00Z'),
          idPrefix: 'trip-1',
          after: { updatedAt: 1733400000000, instanceId: 'trip-17' },
          limit: 21,
        },
      },
    });
    expect(listQueryOf({}, now)).toEqual({ ok: true, query: { limit: 100, statuses: [], filter: { limit: 101 } } });
    expect(listQueryOf({ limit: '5000' }, now, { default: 50, max: 1000 })).toMatchObject({ ok: false, error: { option: 'limit' } });
  });

  it('names what is wrong, one part at a time', () => {
    expect(listQueryOf({ statuses: ['bogus'] }, now)).toEqual({ ok: false, error: { option: 'status', problem: 'Unknown status "bogus": use pending, running, compensating, completed, compensated, cancelled, stuck' } });
    expect(listQueryOf({ since: '5 minutes' }, now)).toMatchObject({ ok: false, error: { option: 'since' } });
    expect(listQueryOf({ changedFrom: 'yesterday' }, now)).toEqual({ ok: false, error: { option: 'changedFrom', problem: 'changedFrom takes a time such as 2026-12-06T10:00:00Z, not "yesterday"' } });
    expect(listQueryOf({ startedTo: '2026-13-45T99:00:00Z' }, now)).toMatchObject({ ok: false, error: { option: 'startedTo' } });
    expect(listQueryOf({ limit: '0' }, now)).toEqual({ ok: false, error: { option: 'limit', problem: '--limit must be an integer from 1 to 100000, not "0"' } });
    expect(listQueryOf({ after: 'nope' }, now)).toMatchObject({ ok: false, error: { option: 'after' } });
  });

  it('gives the cursor of a row as the next page reads it', () => {
    const row = { updatedAt: 1733400000000, instanceId: 'a:b' };
    expect(listQueryOf({ after: cursorOf(row) }, now)).toMatchObject({ ok: true, query: { filter: { after: row } } });
  });
});
