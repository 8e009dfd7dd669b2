/**
 * The check-back responder (upstream side) against the engine's NATS transport (engine side), on
 * the test run's nats-server: answers, silence, failures and the queue group.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { CheckBackEffect } from '@sagaflow/core';
import { createNatsTransport, type NatsTransport } from '@sagaflow/nats';
import { serveCheckBack } from '@sagaflow/worker';
import { uniqueNamespace } from './support/harness.js';

let connection: NatsConnection;
beforeAll(async () => {
  connection = await connect({ servers: inject('natsUrl') });
});
afterAll(async () => {
  await connection.close();
});

const effect = (instanceId: string, attempt = 1): CheckBackEffect => ({ type: 'checkBack', id: `${instanceId}/check-back/${attempt}`, instanceId, saga: 'transfer', attempt });

async function transportIn(namespace: string, log: string[], checkBackTimeoutMs = 2_000): Promise<NatsTransport> {
  return createNatsTransport({ connection, namespace, log: (message) => log.push(message), checkBackTimeoutMs });
}

describe('check-back over NATS', () => {
  it('carries the instance and attempt to the upstream and its answer back', async () => {
    const namespace = uniqueNamespace();
    const asked: string[] = [];
    const server = await serveCheckBack({
      connection,
      namespace,
      saga: { name: 'transfer' },
      check: (instanceId) => {
        asked.push(instanceId);
        return Promise.resolve(instanceId.startsWith('yes') ? 'committed' : 'rolledBack');
      },
    });
    expect(server.subject).toBe(`${namespace}.checkback.transfer`);
    const transport = await transportIn(namespace, []);
    expect(await transport.checkBack?.(effect('yes-1'))).toBe('committed');
    expect(await transport.checkBack?.(effect('no-1', 3))).toBe('rolledBack');
    expect(asked).toEqual(['yes-1', 'no-1']);
    await server.stop();
    await transport.close();
  });

  it('answers null when no upstream serves check-backs, or it does not answer in time, and says why', async () => {
    const namespace = uniqueNamespace();
    const log: string[] = [];
    const transport = await transportIn(namespace, log, 300);
    const started = Date.now();
    expect(await transport.checkBack?.(effect('tx-1'))).toBeNull();
    expect(Date.now() - started).toBeLessThan(300); // no responders: at once, not after the timeout
    expect(log.at(-1)).toMatch(/tx-1.*no upstream is serving check-backs/);

    const slow = await serveCheckBack({ connection, namespace, saga: 'transfer', check: () => new Promise((resolve) => setTimeout(() => resolve('committed'), 1_000)) });
    expect(await transport.checkBack?.(effect('tx-2'))).toBeNull();
    expect(log.at(-1)).toMatch(/tx-2.*no answer within 300 ms/);
    await slow.stop();
    await transport.close();
  });

  it('answers null ("cannot tell") when the check throws or returns nonsense, and keeps serving', async () => {
    const namespace = uniqueNamespace();
    const log: string[] = [];
    const serverLog: string[] = [];
    const server = await serveCheckBack({
      connection,
      namespace,
      saga: 'transfer',
      log: (message) => serverLog.push(message),
      check: (instanceId) => {
        if (instanceId === 'db-down') throw new Error('database is unreachable');
        if (instanceId === 'nonsense') return 'maybe' as never;
        return 'committed';
      },
    });
    const transport = await transportIn(namespace, log);
    expect(await transport.checkBack?.(effect('db-down'))).toBeNull();
    expect(log.at(-1)).toMatch(/could not tell \(database is unreachable\)/);
    expect(await transport.checkBack?.(effect('nonsense'))).toBeNull();
    expect(await transport.checkBack?.(effect('fine'))).toBe('committed');
    expect(serverLog).toHaveLength(2);
    await server.stop();
    await transport.close();
  });

  it('one upstream process of several answers each check-back (queue group); a stopped one answers no more', async () => {
    const namespace = uniqueNamespace();
    const calls = [0, 0];
    const servers = await Promise.all(
      [0, 1].map((n) =>
        serveCheckBack({
          connection,
          namespace,
          saga: 'transfer',
          check: () => {
            calls[n] = (calls[n] ?? 0) + 1;
            return 'committed';
          },
        }),
      ),
    );
    const transport = await transportIn(namespace, []);
    for (let i = 0; i < 20; i++) expect(await transport.checkBack?.(effect(`tx-${i}`))).toBe('committed');
    expect((calls[0] ?? 0) + (calls[1] ?? 0)).toBe(20);
    for (const server of servers) await server.stop();
    expect(await transport.checkBack?.(effect('after-stop'))).toBeNull();
    await transport.close();
  });
});
