import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type EventStore, type ReplyOutcome } from '@sagaflow/core';
import { createInProcessTransport, Engine, type EngineLog } from '@sagaflow/engine';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import orderFulfilment from '../sagas/order-fulfilment.saga.js';
import { orderInput } from '../examples/order-fulfilment/order-input.js';

const registry = createRegistry([orderFulfilment]);
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function engineWith(store: EventStore, answer: (operation: string) => Promise<ReplyOutcome>, log: EngineLog) {
  const transport = createInProcessTransport();
  for (const operation of ['reserveInventory', 'chargePayment', 'createShipment', 'releaseInventory', 'refundPayment']) {
    transport.register(operation, () => answer(operation));
  }
  return { engine: new Engine({ store, registry, transport, log }), transport };
}

const replies: Record<string, unknown> = {
  reserveInventory: { reservationId: 'r' },
  chargePayment: { paymentId: 'p' },
  createShipment: { trackingNumber: 't' },
};

async function statusOf(store: EventStore, id: string, wanted: string): Promise<string | undefined> {
  for (let i = 0; i < 200; i++) {
    const status = (await store.getInstance(id))?.status;
    if (status === wanted) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return (await store.getInstance(id))?.status;
}

describe('bad input on a real SQLite store', () => {
  it('a corrupted event row stops only its own instance; the others resume and finish', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bad-'));
    dirs.push(dir);
    const path = join(dir, 'sagaflow.db');
    const errors: string[] = [];
    const log: EngineLog = { info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) };

    const store = openSqliteEventStore(path);
    const first = engineWith(store, () => new Promise<ReplyOutcome>(() => undefined), log);
    await first.engine.start();
    for (const n of [1, 2, 3]) expect(E.isRight(await first.engine.startSaga('order-fulfilment', `order-${n}`, orderInput(n)))).toBe(true);
    await first.engine.stop();
    await first.transport.close();
    await store.close();

    const raw = new Database(path);
    raw.prepare("UPDATE events SET json = json_set(json, '$.attempt', 'two') WHERE instance_id = 'order-2' AND type = 'StepDispatched'").run();
    raw.close();

    const reopened = openSqliteEventStore(path);
    try {
      const second = engineWith(reopened, (operation) => Promise.resolve({ ok: true, reply: replies[operation] ?? null }), log);
      const report = await second.engine.start();
      expect(report).toMatchObject({ instances: 3, failed: 1 });
      expect(errors.join('\n')).toMatch(/order-2.*revision 1.*attempt: expected number, got "two"/u);

      expect(await statusOf(reopened, 'order-1', 'completed')).toBe('completed');
      expect(await statusOf(reopened, 'order-3', 'completed')).toBe('completed');
      const inspected = await second.engine.inspect('order-2');
      expect(E.isLeft(inspected) && inspected.left).toMatchObject({ _tag: 'CorruptEvent', instanceId: 'order-2', revision: 1 });
      expect(E.isLeft(inspected) && inspected.left._tag === 'CorruptEvent' && inspected.left.problems.map((p) => p.path)).toEqual(['attempt']);

      // A new instance still starts and finishes next to the corrupted one.
      expect(E.isRight(await second.engine.startSaga('order-fulfilment', 'order-4', orderInput(4)))).toBe(true);
      expect(await statusOf(reopened, 'order-4', 'completed')).toBe('completed');
      await second.engine.stop();
      await second.transport.close();
    } finally {
      await reopened.close();
    }
  });

  it('a reply that fails its codec is refused with the path of the bad field and stops only its instance, which an operator can retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-bad-'));
    dirs.push(dir);
    const store = openSqliteEventStore(join(dir, 'sagaflow.db'));
    const errors: string[] = [];
    const log: EngineLog = { info: () => undefined, warn: () => undefined, error: (message) => errors.push(message) };
    let calls = 0;
    const { engine, transport } = engineWith(
      store,
      (operation) => {
        if (operation === 'reserveInventory' && calls++ === 0) return Promise.resolve({ ok: true, reply: { reservationId: 7 } });
        return Promise.resolve({ ok: true, reply: replies[operation] ?? null });
      },
      log,
    );
    try {
      await engine.start();
      await engine.startSaga('order-fulfilment', 'order-9', orderInput(9));
      for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(errors[0]).toMatch(/Invalid reply for step "reserveInventory" of instance "order-9": reservationId: expected string, got 7/u);
      expect(await statusOf(store, 'order-9', 'stuck')).toBe('stuck');
      const retried = await engine.intervene('order-9', 'retry', 'ops', 'worker fixed');
      expect(E.isRight(retried) && retried.right.status).toBe('running');
      expect(await statusOf(store, 'order-9', 'completed')).toBe('completed');
    } finally {
      await engine.stop();
      await transport.close();
      await store.close();
    }
  });
});
