/**
 * Start markers (two-phase start): the commit marker written inside the upstream's transaction and
 * the check-back that answers from it, on real SQLite files and a real PostgreSQL server, with the
 * upstream's transaction held open (another process for SQLite, another client for PostgreSQL)
 * while the check-back runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { barrierCodes, createPgBarrier, createSqliteBarrier, startMarkerKey, StartRolledBackError, type PgBarrier } from '../src/index.js';
import { freshInstance } from './support/barrier-harness.js';
import { openPgTestEnv, untilBlockedOn, type PgTestEnv } from '../../../test/support/postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('start markers on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sagaflow-markers-'));
  const opened: Database.Database[] = [];
  afterAll(() => {
    for (const db of opened) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let files = 0;
  const open = (path = join(dir, `upstream-${++files}.db`)): Database.Database => {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec('CREATE TABLE IF NOT EXISTS business (key TEXT NOT NULL)');
    opened.push(db);
    return db;
  };
  const debits = (db: Database.Database, id: string): number => db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM business WHERE key = ?').get(id)?.n ?? 0;

  it('answers committed once the transaction that wrote the commit marker has committed, however often it is asked', () => {
    const db = open();
    const barrier = createSqliteBarrier(db);
    const id = freshInstance();
    db.transaction(() => {
      db.prepare('INSERT INTO business (key) VALUES (?)').run(id);
      barrier.markCommitted(db, id);
    })();
    expect(barrier.checkBack(id)).toBe('committed');
    expect(barrier.checkBack(id)).toBe('committed');
    expect(barrier.find(startMarkerKey(id))).toMatchObject({ ok: true });
  });

  it('without a commit marker writes the rollback marker; a transaction marking afterwards fails and leaves nothing', () => {
    const db = open();
    const barrier = createSqliteBarrier(db);
    const id = freshInstance();
    expect(barrier.checkBack(id)).toBe('rolledBack');
    expect(barrier.find(startMarkerKey(id))).toMatchObject({ ok: false, error: { code: barrierCodes.rolledBack } });
    const late = db.transaction(() => {
      db.prepare('INSERT INTO business (key) VALUES (?)').run(id);
      barrier.markCommitted(db, id);
    });
    expect(() => late()).toThrow(StartRolledBackError);
    expect(debits(db, id)).toBe(0);
    expect(barrier.checkBack(id)).toBe('rolledBack');
  });

  it('a rolled-back transaction leaves no commit marker, so the check-back answers rolledBack', () => {
    const db = open();
    const barrier = createSqliteBarrier(db);
    const id = freshInstance();
    expect(() =>
      db.transaction(() => {
        barrier.markCommitted(db, id);
        throw new Error('insufficient funds');
      })(),
    ).toThrow('insufficient funds');
    expect(barrier.checkBack(id)).toBe('rolledBack');
  });

  it('refuses a commit marker outside a transaction, a check-back inside one on the same connection, and an empty id', () => {
    const db = open();
    const barrier = createSqliteBarrier(db);
    expect(() => barrier.markCommitted(db, 'tx-outside')).toThrow(/inside the local transaction/);
    db.transaction(() => {
      expect(() => barrier.checkBack('tx-inside')).toThrow(/connection of its own/);
    })();
    expect(() => barrier.checkBack('')).toThrow(TypeError);
    expect(barrier.find(startMarkerKey('tx-outside'))).toBeUndefined();
    expect(barrier.find(startMarkerKey('tx-inside'))).toBeUndefined();
  });

  it.each(['commit', 'rollback'] as const)('a check-back while another process holds the transaction open waits for it to %s', async (end) => {
    const path = join(dir, `race-${end}.db`);
    const db = open(path);
    const barrier = createSqliteBarrier(db);
    const id = freshInstance();
    const holder = spawn(process.execPath, ['--import', 'tsx', 'packages/barrier/test/support/sqlite-tx-holder.ts', path, id, '400', end], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
    let stderr = '';
    holder.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('holding') && resolve());
      void exited.then((code) => reject(new Error(`holder exited (${String(code)}): ${stderr}`)));
    });
    const answer = barrier.checkBack(id); // blocks (busy timeout) until the holder's transaction ends
    expect(await exited).toBe(0);
    expect(answer).toBe(end === 'commit' ? 'committed' : 'rolledBack');
    expect(debits(db, id)).toBe(end === 'commit' ? 1 : 0);
  });
});

describe('start markers on PostgreSQL', () => {
  let env: Promise<PgTestEnv> | undefined;
  afterAll(async () => {
    const opened = await env?.catch(() => undefined);
    await opened?.close();
  });
  let tables = 0;
  const setUp = async (): Promise<{ pool: pg.Pool; barrier: PgBarrier; table: string; business: string }> => {
    const { pool, schema } = await (env ??= openPgTestEnv());
    const n = ++tables;
    const barrier = createPgBarrier(pool, { table: `${schema}.markers_${n}` });
    await barrier.ensureSchema();
    const business = `"${schema}"."debits_${n}"`;
    await pool.query(`CREATE TABLE ${business} (key text NOT NULL)`);
    return { pool, barrier, table: `"${schema}"."markers_${n}"`, business };
  };
  const debits = async (pool: pg.Pool, business: string, id: string): Promise<number> =>
    (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${business} WHERE key = $1`, [id])).rows[0]?.n ?? 0;

  /** An upstream transaction on a client of its own: BEGIN, debit, and (unless told not to) the commit marker. */
  const upstream = async (pool: pg.Pool, barrier: PgBarrier, business: string, id: string, mark = true) => {
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${business} (key) VALUES ($1)`, [id]);
    if (mark) await barrier.markCommitted(client, id);
    return {
      client,
      mark: () => barrier.markCommitted(client, id),
      async end(how: 'COMMIT' | 'ROLLBACK') {
        await client.query(how);
        client.release();
      },
    };
  };

  it('answers from the markers: committed after a commit; rolledBack (with the marker written) otherwise, and a late commit fails', async () => {
    const { pool, barrier, business } = await setUp();
    const committed = freshInstance();
    const tx = await upstream(pool, barrier, business, committed);
    await tx.end('COMMIT');
    expect(await barrier.checkBack(committed)).toBe('committed');
    expect(await barrier.checkBack(committed)).toBe('committed');

    const never = freshInstance();
    expect(await barrier.checkBack(never)).toBe('rolledBack');
    expect(await barrier.find(startMarkerKey(never))).toMatchObject({ ok: false, error: { code: barrierCodes.rolledBack } });
    const late = await upstream(pool, barrier, business, never, false);
    await expect(late.mark()).rejects.toThrow(StartRolledBackError);
    await late.end('ROLLBACK');
    expect(await debits(pool, business, never)).toBe(0);
  });

  it.each(['COMMIT', 'ROLLBACK'] as const)('a check-back while the transaction holding the commit marker is open waits for its %s', async (end) => {
    const { pool, barrier, table, business } = await setUp();
    const id = freshInstance();
    const tx = await upstream(pool, barrier, business, id);
    let answer: string | undefined;
    const asking = barrier.checkBack(id).then((outcome) => (answer = outcome));
    await untilBlockedOn(pool, table);
    await sleep(50);
    expect(answer).toBeUndefined(); // still waiting: "in progress" is neither outcome
    await tx.end(end);
    await asking;
    expect(answer).toBe(end === 'COMMIT' ? 'committed' : 'rolledBack');
    expect(await debits(pool, business, id)).toBe(end === 'COMMIT' ? 1 : 0);
  });

  it('a check-back before the open transaction writes its marker wins: the transaction then fails on the rollback marker, even if the caller tries to commit', async () => {
    const { pool, barrier, business } = await setUp();
    const id = freshInstance();
    const tx = await upstream(pool, barrier, business, id, false);
    expect(await barrier.checkBack(id)).toBe('rolledBack');
    await expect(tx.mark()).rejects.toThrow(StartRolledBackError);
    await expect(tx.client.query(`INSERT INTO ${business} (key) VALUES ($1)`, [id])).rejects.toThrow(/current transaction is aborted/);
    await tx.end('COMMIT'); // the server answers ROLLBACK
    expect(await debits(pool, business, id)).toBe(0);
  });

  it('a check-back that wrote its rollback marker but has not committed it makes the marking transaction wait, then fail', async () => {
    const { pool, barrier, table, business } = await setUp();
    const id = freshInstance();
    // The check-back's own transaction, held open by hand: what checkBack does, paused before COMMIT.
    const checker = await pool.connect();
    await checker.query('BEGIN');
    await checker.query(`INSERT INTO ${table} (key, outcome) VALUES ($1, $2)`, [startMarkerKey(id), JSON.stringify({ ok: false, error: { code: 'RolledBack', message: 'test', retryable: false } })]);
    const tx = await upstream(pool, barrier, business, id, false);
    const marking = tx.mark().then(
      () => 'marked',
      (error: unknown) => (error instanceof StartRolledBackError ? 'refused' : String(error)),
    );
    await untilBlockedOn(pool, table);
    await checker.query('COMMIT');
    checker.release();
    expect(await marking).toBe('refused');
    await tx.end('ROLLBACK');
    expect(await barrier.checkBack(id)).toBe('rolledBack');
  });

  it('many transactions racing their check-backs: each answer matches what committed, never both', async () => {
    const { pool, barrier, business } = await setUp();
    const runs = Array.from({ length: 24 }, (_, n) => ({ id: freshInstance(), commit: n % 3 !== 0, markDelay: (n * 7) % 30, askDelay: (n * 11) % 30 }));
    const results = await Promise.all(
      runs.map(async (run) => {
        const tx = await upstream(pool, barrier, business, run.id, false);
        const asked = sleep(run.askDelay).then(() => barrier.checkBack(run.id));
        let committed = false;
        try {
          await sleep(run.markDelay);
          await tx.mark();
          if (!run.commit) throw new Error('business failure');
          await tx.end('COMMIT');
          committed = true;
        } catch {
          await tx.end('ROLLBACK');
        }
        return { committed, answer: await asked, again: await barrier.checkBack(run.id), debits: await debits(pool, business, run.id) };
      }),
    );
    for (const result of results) {
      expect(result.answer).toBe(result.committed ? 'committed' : 'rolledBack');
      expect(result.again).toBe(result.answer);
      expect(result.debits).toBe(result.committed ? 1 : 0);
    }
    expect(results.some((result) => result.committed)).toBe(true);
    expect(results.some((result) => !result.committed)).toBe(true);
  });
});
