/**
 * The SQLite barrier on real database files in a fresh temp directory: the shared contract
 * (support/barrier-contract.ts), then what is specific to a synchronous driver.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteBarrier, type SqliteBarrier } from '../src/index.js';
import { describeBarrierContract } from './support/barrier-contract.js';
import { CallCounter, action, freshInstance, type BarrierHarness } from './support/barrier-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'sagaflow-barrier-'));
const open: Database.Database[] = [];
let files = 0;

afterAll(() => {
  for (const db of open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function openDatabase(path = join(dir, `worker-${++files}.db`)): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS business (key TEXT NOT NULL)');
  open.push(db);
  return db;
}

function sqliteHarness(db: Database.Database, barrier: SqliteBarrier): BarrierHarness {
  const counter = new CallCounter();
  const write = db.prepare<[string]>('INSERT INTO business (key) VALUES (?)');
  const count = db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM business WHERE key = ?');
  return {
    // A synchronous throw (bad input) becomes a rejection, as with the PostgreSQL barrier.
    run: (effect, plan = {}) =>
      asPromise(() => barrier.run(effect, () => {
        counter.hit(effect.key);
        write.run(effect.key);
        if (plan.fail !== undefined) throw plan.fail;
        return plan.reply;
      })),
    calls: (key) => counter.get(key),
    applied: (key) => asPromise(() => count.get(key)?.n ?? 0),
    find: (key) => asPromise(() => barrier.find(key)),
  };
}

const asPromise = <T>(run: () => T): Promise<T> => new Promise((resolve) => resolve(run()));

describe('SQLite barrier', () => {
  describeBarrierContract(() =>
    asPromise(() => {
      const db = openDatabase();
      return sqliteHarness(db, createSqliteBarrier(db));
    }),
  );

  it('keeps its outcomes across a reopen of the file', () => {
    const path = join(dir, 'reopened.db');
    const effect = action(freshInstance());
    const first = openDatabase(path);
    expect(createSqliteBarrier(first, { table: 'payments_barrier' }).run(effect, () => ({ paymentId: 'pay-1' }))).toEqual({ ok: true, reply: { paymentId: 'pay-1' } });
    first.close();

    const again = createSqliteBarrier(openDatabase(path), { table: 'payments_barrier' });
    let ran = false;
    expect(again.run(effect, () => (ran = true))).toEqual({ ok: true, reply: { paymentId: 'pay-1' } });
    expect(ran).toBe(false);
  });

  it('refuses business code that returns a promise, storing nothing', () => {
    const db = openDatabase();
    const barrier = createSqliteBarrier(db);
    const effect = action(freshInstance());
    expect(() => barrier.run(effect, async () => Promise.resolve('late'))).toThrow(/must be synchronous/);
    expect(barrier.find(effect.key)).toBeUndefined();
  });

  it('runs inside a transaction the caller already holds, as a savepoint', () => {
    const db = openDatabase();
    const barrier = createSqliteBarrier(db);
    const effect = action(freshInstance());
    const outer = db.transaction(() => barrier.run(effect, () => 'inner'));
    expect(outer()).toEqual({ ok: true, reply: 'inner' });
    expect(barrier.find(effect.key)).toEqual({ ok: true, reply: 'inner' });
  });

  it.each(['', 'barrier; DROP TABLE business', 'a.b.c', '1barrier', '"barrier"', 'bar rier', 'x'.repeat(64)])(
    'refuses the table name %j',
    (table) => {
      const db = openDatabase();
      expect(() => createSqliteBarrier(db, { table })).toThrow(TypeError);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'business'").get()).toBeDefined();
    },
  );

  it('accepts a schema-qualified table name', () => {
    const db = openDatabase();
    const barrier = createSqliteBarrier(db, { table: 'main.worker_barrier' });
    expect(barrier.run(action(freshInstance()), () => 1)).toEqual({ ok: true, reply: 1 });
  });
});
