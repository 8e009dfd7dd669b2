import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, decodeStream, replay } from '@sagaflow/core';
import { openSqliteEventStore } from '@sagaflow/store-sqlite';
import orderFulfilment from '../sagas/order-fulfilment.saga.js';
import { orderPlan, readLedger } from '../examples/order-fulfilment/order-services.js';
import { spawnTs } from './support/processes.js';

const count = 200;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('engine killed with SIGKILL in the middle of a run', () => {
  it('resumes every instance on restart and applies every effect exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sagaflow-crash-'));
    dirs.push(dir);
    const storePath = join(dir, 'sagaflow.db');
    const workersPath = join(dir, 'workers.db');
    const args = [storePath, workersPath, String(count)];

    const first = spawnTs('test/support/crash-engine.ts', args);
    await first.waitFor(/^progress (\d+)\/200$/u);
    await first.waitFor(/^progress ([4-9]\d|1\d\d)\/200$/u); // 40 to 199 finished: mid-run
    first.process.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const store = openSqliteEventStore(storePath);
    try {
      const unfinished = await store.listInstances({ statuses: ['running', 'compensating'], limit: count });
      expect(unfinished.length).toBeGreaterThan(0); // the kill landed mid-run

      const second = spawnTs('test/support/crash-engine.ts', args);
      const recovered = await second.waitFor(/^recovered /u);
      expect(Number(recovered.split(' ')[1])).toBeGreaterThan(0);
      await second.waitFor(/^done$/u, 90_000);
      expect(await second.exited).toBe(0);

      const registry = createRegistry([orderFulfilment]);
      const ledger = readLedger([workersPath]);
      for (const [key, times] of ledger.applied) expect({ key, times }).toEqual({ key, times: 1 });

      for (let n = 0; n < count; n++) {
        const id = `order-${n}`;
        const summary = await store.getInstance(id);
        const expected = orderPlan.paymentDeclined(n) ? 'compensated' : 'completed';
        expect({ id, status: summary?.status }).toEqual({ id, status: expected });
        const operations = [...(ledger.operations.get(id) ?? [])].sort();
        const effects = expected === 'completed' ? ['chargePayment', 'createShipment', 'reserveInventory'] : ['releaseInventory', 'reserveInventory'];
        expect({ id, operations }).toEqual({ id, operations: effects });

        const events = decodeStream(await store.readStream(id));
        if (E.isLeft(events)) throw new Error(events.left.message);
        const terminal = events.right.filter((event) => event.type === 'SagaCompleted' || event.type === 'SagaCompensated');
        expect({ id, finished: terminal.length }).toEqual({ id, finished: 1 });
        const state = replay(registry, id, events.right);
        expect(E.isRight(state) && state.right.status).toBe(expected);
      }
    } finally {
      await store.close();
    }
  });
});
