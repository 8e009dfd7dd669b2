import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventStoreUnavailableError, noStream, type EventStore, type InstanceFilter, type SagaStatus } from '@sagaflow/core';
import { openSqliteEventStore, sagaflowApplicationId, schemaVersion, listingQuery, type SqliteEventStoreOptions } from '@sagaflow/store-sqlite';

import { appendOf, eventStoreContract, started, summaryAt, t0 } from './event-store.contract.js';
import type { RacerReport } from './support/sqlite-append-racer.js';
import { versionOneStore } from './support/version-one-store.js';
import { openAtOnce, runScript, supportScript } from './support/support-scripts.js';
import { runNode } from '../support/cli.js';

/** A fresh temporary directory, and the stores opened in it, closed and removed by `remove`. */
async function scratch(): Promise<{ dir: string; open: (path: string, options?: SqliteEventStoreOptions) => EventStore; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sagaflow-sqlite-'));
  const stores: EventStore[] = [];
  return {
    dir,
    open: (path, options) => {
      const store = openSqliteEventStore(path, options);
      stores.push(store);
      return store;
    },
    remove: async () => {
      try {
        for (const store of stores) await store.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

eventStoreContract('SQLite', async () => {
  const { dir, open, remove } = await scratch();
  const path = join(dir, 'events.sqlite');
  return { store: open(path), reopen: () => Promise.resolve(open(path)), cleanup: remove };
}, { durable: true });

describe('SQLite event store file', () => {
  let dir: string;
  let open: (path: string, options?: SqliteEventStoreOptions) => EventStore;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, open, remove } = await scratch());
  });
  afterEach(async () => {
    await remove();
  });

  /** Runs `work` on a plain connection to `path`, closed afterwards. */
  function raw<T>(path: string, work: (db: Database.Database) => T): T {
    const db = new Database(path);
    try {
      return work(db);
    } finally {
      db.close();
    }
  }

  it('creates missing parent directories, a WAL journal and the stamped schema', async () => {
    const path = join(dir, 'a', 'b', 'events.sqlite');
    const store = open(path);
    await store.append(appendOf('order-1', noStream, [started('order-1')]));
    raw(path, (db) => {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('application_id', { simple: true })).toBe(sagaflowApplicationId);
      expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
      const columns = (table: string) => db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name);
      expect(columns('events')).toEqual(['position', 'stream', 'instance_id', 'revision', 'type', 'json', 'recorded_at']);
      expect(columns('instances')).toEqual(['stream', 'instance_id', 'saga', 'version', 'status', 'state', 'current_step', 'attempts', 'revision', 'started_at', 'updated_at']);
      // The acknowledged append is in the file, visible to any other connection.
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(1);
    });
  });

  it('stamps events with the wall clock, or with the clock it is given', async () => {
    const before = Date.now();
    const store = open(join(dir, 'events.sqlite'));
    await store.append(appendOf('order-1', noStream, [started('order-1')]));
    const recordedAt = (await store.readStream('order-1'))[0]?.recordedAt ?? 0;
    expect(recordedAt).toBeGreaterThanOrEqual(before);
    expect(recordedAt).toBeLessThanOrEqual(Date.now());

    const clocked = openSqliteEventStore(join(dir, 'clocked.sqlite'), { now: () => 1234 });
    try {
      await clocked.append(appendOf('order-1', noStream, [started('order-1')]));
      expect((await clocked.readStream('order-1'))[0]?.recordedAt).toBe(1234);
    } finally {
      await clocked.close();
    }
  });

  it('refuses a file that is not a SQLite database, naming it', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'these are not the events you are looking for\n'.repeat(100));
    expect(() => open(path)).toThrow(EventStoreUnavailableError);
    expect(() => open(path)).toThrow(path);
    expect(() => open(path)).toThrow(/not a Sagaflow event store/);
  });

  it('refuses a SQLite database of another application, naming it and leaving it alone', () => {
    const path = join(dir, 'other.sqlite');
    raw(path, (db) => db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)'));
    expect(() => open(path)).toThrow(new RegExp(`${escape(path)}.*not a Sagaflow event store`));
    raw(path, (db) => {
      expect(db.pragma('application_id', { simple: true })).toBe(0);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'events'").pluck().get()).toBe(0);
    });
    const stamped = join(dir, 'stamped.sqlite');
    raw(stamped, (db) => db.pragma('application_id = 42'));
    expect(() => open(stamped)).toThrow(/application id is 0x2a/);
  });

  it('refuses a store with a newer schema, naming the file and both versions', async () => {
    const path = join(dir, 'future.sqlite');
    await open(path).close();
    raw(path, (db) => db.pragma(`user_version = ${schemaVersion + 1}`));
    expect(() => open(path)).toThrow(EventStoreUnavailableError);
    expect(() => open(path)).toThrow(new RegExp(`${escape(path)}.*schema version ${schemaVersion + 1} is newer.*\\(${schemaVersion}\\)`));
  });

  describe('written by schema version 1 (events keyed by the instance id)', () => {
    it('moves its events and listing to version 2 on open, keeping positions, order and revisions', async () => {
      const path = join(dir, 'v1.sqlite');
      const instances = [
        { id: 'f3a9c2e0-order', events: 3 },
        { id: '0b71d4aa-order', events: 1 },
        { id: '9e0c5b13-order', events: 2 },
      ];
      versionOneStore(path, instances);
      const before = raw(path, (db) => db.prepare('SELECT position, instance_id AS instanceId, revision, type, json, recorded_at AS recordedAt FROM events ORDER BY position').all());

      const told: string[] = [];
      const store = open(path, { log: (line) => told.push(line) });
      expect(told).toEqual([
        `moving ${path} from schema version 1 to ${schemaVersion} (6 events; once, writes wait meanwhile)`,
        expect.stringMatching(new RegExp(`^moved ${escape(path)} to schema version ${schemaVersion} in \\d+ ms$`)),
      ]);
      expect(await store.readAll(-1, 100)).toEqual(before);
      for (const { id, events } of instances) {
        expect((await store.readStream(id)).map((event) => event.revision)).toEqual([...Array(events).keys()]);
        expect((await store.getInstance(id))?.revision).toBe(events - 1);
      }
      // Appends go on at the expected revision, after the last position the file had handed out.
      const appended = await store.append(appendOf('0b71d4aa-order', 0, [started('0b71d4aa-order')]));
      expect(appended).toEqual({ revision: 1, position: before.length + 1 });
      await expect(store.append(appendOf('9e0c5b13-order', 0, [started('9e0c5b13-order')]))).rejects.toThrow('"9e0c5b13-order" is at revision 1, not 0');
      raw(path, (db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(schemaVersion);
        const streams = db.prepare<[], { stream: number; instanceId: string }>('SELECT stream, instance_id AS instanceId FROM instances ORDER BY stream').all();
        expect(streams.map((row) => row.instanceId)).toEqual(instances.map((instance) => instance.id));
        expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v1'").pluck().get()).toBe(0);
      });
      // Opened again, it is current: nothing to move, nothing told.
      open(path, { log: (line) => told.push(line) });
      expect(told).toHaveLength(2);
    });

    it('is moved by a process that waits, past its busy timeout, for another holding the write lock', async () => {
      const path = join(dir, 'locked.sqlite');
      versionOneStore(path, [{ id: 'order-1', events: 2 }]);
      // Another process holds the file's write lock for a second, as one moving a large file does.
      const holder = new Database(path);
      holder.exec('BEGIN IMMEDIATE');
      const opening = runNode(['--import', 'tsx', supportScript('sqlite-store-open.ts'), path, '50']);
      // Released a second after the other process began to open the file: twenty times its busy timeout.
      while (!existsSync(`${path}.opening`)) await sleep(20);
      await sleep(1000);
      holder.exec('COMMIT');
      holder.close();
      const run = await opening;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^moving ${escape(path)} from schema version 1 to ${schemaVersion} \\(2 events; once, writes wait meanwhile\\)\nmoved .*\nopened\n$`));
    });

    it('is refused, naming the file and left as it was, when one of its events has no listing row', () => {
      const path = join(dir, 'orphaned.sqlite');
      versionOneStore(path, [{ id: 'order-1', events: 2 }], 'order-lost');
      expect(() => open(path)).toThrow(EventStoreUnavailableError);
      expect(() => open(path)).toThrow(new RegExp(`${escape(path)}.*1 of its events belong to no instance`));
      raw(path, (db) => {
        expect(db.pragma('user_version', { simple: true })).toBe(1);
        expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(3);
      });
    });
  });

  it("keeps each instance's events through a purge by hand and a dump restored into a new file", async () => {
    const path = join(dir, 'dumped.sqlite');
    const store = open(path);
    for (const id of ['order-old', 'order-a', 'order-b']) await store.append(appendOf(id, noStream, [started(id)]));
    await store.append(appendOf('order-a', 0, [started('order-a')]));
    await store.close();
    // Finished instances deleted by hand, then the file copied as `sqlite3 .dump` restores it: row by row,
    // column by column, so a rowid the table does not name is given anew (the `WHERE` keeps SQLite from
    // copying the rows whole, rowids included).
    const restored = join(dir, 'restored.sqlite');
    raw(path, (db) => {
      db.prepare("DELETE FROM events WHERE instance_id = 'order-old'").run();
      db.prepare("DELETE FROM instances WHERE instance_id = 'order-old'").run();
      db.prepare('ATTACH ? AS restored').run(restored);
      const objects = db.prepare<[], { type: string; name: string; sql: string }>("SELECT type, name, sql FROM main.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC").all();
      for (const { type, name, sql } of objects) {
        db.exec(sql.replace(/^CREATE (TABLE|INDEX) (\w+)/u, 'CREATE $1 restored.$2'));
        if (type === 'table') db.exec(`INSERT INTO restored.${name} SELECT * FROM main.${name} WHERE true`);
      }
      db.pragma(`restored.application_id = ${sagaflowApplicationId}`);
      db.pragma(`restored.user_version = ${schemaVersion}`);
    });
    const copy = open(restored);
    expect((await copy.readStream('order-a')).map((event) => [event.instanceId, event.revision])).toEqual([
      ['order-a', 0],
      ['order-a', 1],
    ]);
    expect((await copy.readStream('order-b')).map((event) => [event.instanceId, event.revision])).toEqual([['order-b', 0]]);
    expect(await copy.append(appendOf('order-c', noStream, [started('order-c')]))).toMatchObject({ revision: 0 });
    expect((await copy.readStream('order-c')).map((event) => event.instanceId)).toEqual(['order-c']);
    raw(restored, (db) => {
      const plan = db.prepare<[], { detail: string }>('EXPLAIN QUERY PLAN SELECT * FROM events WHERE stream = 2 ORDER BY revision').all().map((row) => row.detail);
      expect(plan.join('\n')).toMatch(/USING INDEX sqlite_autoindex_events_1 \(stream=\?\)/);
    });
  });

  it('commits a grouped append as one transaction visible to other connections at once', async () => {
    const path = join(dir, 'events.sqlite');
    const store = open(path);
    const requests = Array.from({ length: 50 }, (_, n) => appendOf(`order-${n}`, noStream, [started(`order-${n}`)]));
    const results = await store.appendMany(requests);
    expect(results).toHaveLength(50);
    raw(path, (db) => {
      expect(db.prepare('SELECT count(*) FROM events').pluck().get()).toBe(50);
      expect(db.prepare('SELECT count(*) FROM instances').pluck().get()).toBe(50);
    });
  });

  it('lets two processes race appends on one file: one winner per revision, no other errors', async () => {
    const path = join(dir, 'shared', 'events.sqlite');
    const instances = ['order-a', 'order-b', 'order-c'];
    const startAt = Date.now() + 1500;
    const reports = await Promise.all(['left', 'right'].map((name) => runRacer(path, name, instances, 40, startAt)));
    const wins = reports.reduce((sum, report) => sum + report.wins, 0);
    const conflicts = reports.reduce((sum, report) => sum + report.conflicts, 0);
    expect(wins).toBe(2 * instances.length * 40 - conflicts);
    const store = open(path);
    let total = 0;
    for (const instanceId of instances) {
      const stream = await store.readStream(instanceId);
      expect(stream.map((e) => e.revision)).toEqual(stream.map((_, revision) => revision));
      expect((await store.getInstance(instanceId))?.revision).toBe(stream.length - 1);
      total += stream.length;
    }
    expect(total).toBe(wins);
    expect(await store.readAll(-1, 10_000)).toHaveLength(total);
  });

  it('lets several processes create the same new store at once: none takes it for another application', async () => {
    for (const path of await openAtOnce('store', join(dir, 'created-at-once', 'events'))) {
      const db = new Database(path, { readonly: true });
      expect([db.pragma('application_id', { simple: true }), db.pragma('user_version', { simple: true })]).toEqual([sagaflowApplicationId, schemaVersion]);
      db.close();
    }
  }, 60_000);

  describe('with 100,000 instances', () => {
    const count = 100_000;
    const sagas = ['order-fulfilment', 'refund', 'shipment', 'invoice'];
    const statuses: SagaStatus[] = ['running', 'completed', 'compensated', 'compensating', 'completed'];
    /** Every 10,000th instance is stuck: a rare status must not cost a scan either. */
    const statusOf = (n: number): SagaStatus => (n % 10_000 === 0 ? 'stuck' : (statuses[n % statuses.length] ?? 'running'));
    const filters: InstanceFilter[] = [
      {},
      { saga: 'refund' },
      { statuses: ['stuck'] },
      { statuses: ['stuck', 'compensating'] },
      { saga: 'refund', statuses: ['running', 'compensating'] },
      { updatedSince: t0 + 50_000_000 },
      { saga: 'invoice', statuses: ['completed', 'stuck'], updatedSince: t0 + 10_000, after: { updatedAt: t0 + 70_000_000, instanceId: 'i-070000' } },
      { after: { updatedAt: t0 + 1000, instanceId: 'i-000001' } },
    ];

    it('lists any filter shape through an index, never a full scan or a sort', async () => {
      const path = join(dir, 'big.sqlite');
      const store = open(path);
      for (let from = 0; from < count; from += 10_000) {
        const batch = Array.from({ length: 10_000 }, (_, k) => {
          const n = from + k;
          const instanceId = `i-${String(n).padStart(6, '0')}`;
          return {
            instanceId,
            expectedRevision: noStream,
            events: [started(instanceId)],
            summary: summaryAt(instanceId, 0, { saga: sagas[n % sagas.length] ?? 'refund', status: statusOf(n), updatedAt: t0 + n * 1000 }),
          };
        });
        await store.appendMany(batch);
      }

      for (const filter of filters) {
        const rows = await store.listInstances({ ...filter, limit: 50 });
        expect(rows.length, JSON.stringify(filter)).toBeGreaterThan(0);
      }
      const stuck = await store.listInstances({ statuses: ['stuck'] });
      expect(stuck.map((row) => row.instanceId)).toEqual(['i-090000', 'i-080000', 'i-070000', 'i-060000', 'i-050000', 'i-040000', 'i-030000', 'i-020000', 'i-010000', 'i-000000']);

      raw(path, (db) => {
        for (const filter of filters) {
          const { sql, params } = listingQuery(filter, 50);
          const plan = db.prepare<[typeof params], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all(params).map((row) => row.detail);
          const reads = plan.filter((detail) => / instances\b/.test(detail));
          expect(reads.length, JSON.stringify(filter)).toBeGreaterThan(0);
          for (const read of reads) expect(read, JSON.stringify(filter)).toMatch(/USING (COVERING )?INDEX instances_by_/);
          // A single-page query is read in listing order: no sort of the rows it matches.
          if ((filter.statuses?.length ?? 0) <= 1) expect(plan.join('\n'), JSON.stringify(filter)).not.toContain('TEMP B-TREE');
        }
      });
    });
  });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs the racer script in its own Node process and returns its report. */
function runRacer(path: string, name: string, instances: readonly string[], rounds: number, startAt: number): Promise<RacerReport> {
  return runScript('sqlite-append-racer.ts', [path, name, instances.join(','), String(rounds), String(startAt)]).then((stdout) => JSON.parse(stdout) as RacerReport);
}

