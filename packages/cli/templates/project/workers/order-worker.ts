// workers/order-worker.ts
/**
 * Serves the order saga's steps and compensations. Each runs behind the idempotency barrier, in
 * the same SQLite transaction as its business change, so a command delivered twice applies once.
 * In production each service (stock, payments) runs its own worker on its own database.
 */
import Database from 'better-sqlite3';
import { connectNats, createSqliteBarrier, createWorker, natsSettingsFromEnv, StepFailure, type Outcome } from 'sagaflow';
import order, { chargeCard, reserveStock } from '../sagas/order.saga.js';

const db = new Database(process.env.WORKER_DB ?? 'worker.db');
db.pragma('journal_mode = WAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS reservations (order_id TEXT PRIMARY KEY, sku TEXT NOT NULL, quantity INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE IF NOT EXISTS charges (order_id TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
`);
const barrier = createSqliteBarrier(db); // its table lives in the same database

/** The barrier's outcome as the handler's answer: the reply, or the failure thrown. */
function settle<R>(outcome: Outcome): R {
  if (outcome.ok) return outcome.reply as R;
  throw new StepFailure(outcome.error.code, outcome.error.message, { retryable: outcome.error.retryable ?? true });
}

const connection = await connectNats(natsSettingsFromEnv()); // NATS_URL (default nats://127.0.0.1:4222)
const worker = createWorker({ connection, saga: order, namespace: process.env.SAGAFLOW_NAMESPACE });

worker
  .step(reserveStock, (command, ctx) =>
    settle(
      barrier.run(ctx.effect, (tx) => {
        tx.prepare('INSERT INTO reservations (order_id, sku, quantity) VALUES (?, ?, ?)').run(command.orderId, command.sku, command.quantity);
        return { reservationId: `res-${command.orderId}` };
      }),
    ),
  )
  .compensation(reserveStock, (command, ctx) =>
    settle(
      barrier.run(ctx.effect, (tx) => {
        tx.prepare('UPDATE reservations SET released = 1 WHERE order_id = ?').run(command.orderId);
        return null;
      }),
    ),
  )
  .step(chargeCard, (command, ctx) =>
    settle(
      barrier.run(ctx.effect, (tx) => {
        // A business refusal: not retried, the saga releases the stock.
        if (command.amountCents > 50_000) throw new StepFailure('CardDeclined', 'over the card limit');
        tx.prepare('INSERT INTO charges (order_id, amount_cents) VALUES (?, ?)').run(command.orderId, command.amountCents);
        return { paymentId: `pay-${command.orderId}` };
      }),
    ),
  )
  .compensation(chargeCard, (command, ctx) =>
    settle(
      barrier.run(ctx.effect, (tx) => {
        tx.prepare('UPDATE charges SET refunded = 1 WHERE order_id = ?').run(command.orderId);
        return null;
      }),
    ),
  );

await worker.start();
console.log('worker ready: reserveStock, releaseStock, chargeCard, refundCard');

async function stop(): Promise<void> {
  await worker.stop(); // finishes the commands in progress
  await connection.drain();
  db.close();
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
