/**
 * docs/reliability.md, rows 1–3: the pre-send (prepare) fails or goes unanswered. The bank runs in
 * this process and reaches NATS through a TCP proxy that loses exactly the prepare or exactly its
 * acknowledgement; the engine and the downstream worker are processes; check-backs are answered
 * from the bank's PostgreSQL markers on a connection of their own.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { afterEach, beforeEach, describe, expect, it, inject } from 'vitest';
import { connectNats, readNamespaceConfig } from '@sagaflow/nats';
import { openAccount, serveBankCheckBacks, transferMoney } from './support/bank.js';
import { startProxy, type NetworkFault } from './support/tcp-proxy.js';
import { sleep, World } from './support/world.js';

let world: World;
let proxy: NetworkFault;
let proxied: NatsConnection;

beforeEach(async () => {
  world = await World.open(inject('natsUrl'));
  await openAccount(world.bank, 'alice', 1_000);
  await Promise.all([world.startEngine(), world.startWorker()]);
  const checkBacks = await serveBankCheckBacks(world.bank, world.connection, world.namespace);
  world.onClose(() => checkBacks.stop());
  const target = new URL(world.natsUrl);
  proxy = await startProxy({ host: target.hostname, port: Number(target.port) });
  proxied = await connectNats({ url: proxy.url, name: 'bank-through-proxy' });
  // As a service does when it starts: the namespace's partition count is read once, before any fault.
  await readNamespaceConfig(jetstream(proxied), world.names);
  world.onClose(async () => {
    await proxied.close();
    await proxy.close();
  });
});
afterEach(async () => {
  await world.close();
});

const transferOf = (transferId: string, amountCents = 100) => ({ transferId, from: 'alice', to: 'bob', amountCents });
const bankOverProxy = () => ({ js: jetstream(proxied), names: world.names });

describe('the pre-send (prepare) fails', () => {
  it('row 1 — the message store refuses the prepare: no message, no debit; the upstream may simply try again, and the saga runs once', async () => {
    await world.refuseWrites('starts', true);
    const refused = await transferMoney(world.bank, bankOverProxy(), transferOf('t-refused'));
    expect(refused).toMatchObject({ outcome: 'notStarted', error: expect.stringMatching(/size|maximum/i) as unknown });
    await world.refuseWrites('starts', false);
    await sleep(700); // past the confirmation timeout: nothing was stored, so nothing is pending
    expect(await world.summary('t-refused')).toBeUndefined();
    expect(await world.startsStored()).toBe(0);
    expect(await world.bank.debitsOf('t-refused')).toBe(0);

    expect(await transferMoney(world.bank, bankOverProxy(), transferOf('t-refused'))).toEqual({ outcome: 'confirmed' });
    await world.settles('t-refused', ['completed']);
    expect(await world.bank.debitsOf('t-refused')).toBe(1);
    expect(world.credits('t-refused')).toBe(1);
    expect(await world.bank.balance('alice')).toBe(900);
  });
});

describe('the prepare is not answered', () => {
  it('row 2 — lost on its way, so not stored: the upstream does not run its transaction; nothing is pending, nothing runs', async () => {
    proxy.set('dropRequests');
    const lost = await transferMoney(world.bank, bankOverProxy(), transferOf('t-lost'), { publishTimeoutMs: 500 });
    expect(lost).toMatchObject({ outcome: 'notStarted', error: expect.stringMatching(/timeout/i) as unknown });
    proxy.heal();
    await sleep(1_000);
    expect(await world.summary('t-lost')).toBeUndefined();
    expect(await world.startsStored()).toBe(0);
    expect(await world.bank.debitsOf('t-lost')).toBe(0);
    expect(await world.bank.balance('alice')).toBe(1_000);
  });

  it('row 3 — stored, but its acknowledgement lost: pending, then the check-back finds no commit marker and cancels it; a late commit fails on the rollback marker', async () => {
    proxy.set('dropAnswers');
    const unanswered = await transferMoney(world.bank, bankOverProxy(), transferOf('t-unacked'), { publishTimeoutMs: 500 });
    expect(unanswered).toMatchObject({ outcome: 'notStarted', error: expect.stringMatching(/timeout/i) as unknown });
    proxy.heal();
    expect(await world.startsStored()).toBe(1); // the prepare was stored
    await world.settles('t-unacked', ['cancelled']);
    const events = await world.events('t-unacked');
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['SagaPrepared', 'CheckBackRequested', 'SagaCancelled']));
    expect(events.find((e) => e.type === 'SagaCancelled')).toMatchObject({ by: 'check-back' });
    expect(events.some((e) => e.type === 'StepDispatched')).toBe(false);

    // The bank retries the same transfer: its transaction now fails on the rollback marker, so it never debits.
    const retried = await transferMoney(world.bank, bankOverProxy(), transferOf('t-unacked'));
    expect(retried).toEqual({ outcome: 'cancelled' });
    expect(await world.bank.debitsOf('t-unacked')).toBe(0);
    expect(await world.bank.balance('alice')).toBe(1_000);
    expect((await world.summary('t-unacked'))?.status).toBe('cancelled');
    expect(world.credits('t-unacked')).toBe(0);
  });
});
