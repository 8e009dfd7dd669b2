import { afterEach, describe, expect, inject, it } from 'vitest';
import { createRegistry, type SagaEvent } from '@sagaflow/core';
import moneyTransfer from '../sagas/money-transfer.saga.js';
import { bankApiName } from '../examples/money-transfer/bank-api.js';
import { openingBalances, readBank, transferInput, transferPlan, type BankService } from '../examples/money-transfer/bank-services.js';
import { transferExample } from '../examples/money-transfer/transfer-example.js';
import { SagaCluster } from './support/saga-cluster.js';
import { expectSettledOnce } from './support/saga-invariants.js';

let cluster: SagaCluster<BankService> | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

const count = 40;
const numbers = Array.from({ length: count }, (_, n) => n);
const statusOf = (n: number) => transferExample.expected(n).status;

/** The balances the schedule dictates: every completed transfer moved its amount, nothing else did. */
function scheduledBalances(): Map<string, number> {
  const balances = new Map<string, number>([...Object.entries(openingBalances.source), ...Object.entries(openingBalances.destination)]);
  for (const n of numbers.filter((m) => statusOf(m) === 'completed')) {
    const { from, to, amountCents } = transferInput(n);
    balances.set(from, (balances.get(from) ?? NaN) - amountCents);
    balances.set(to, (balances.get(to) ?? NaN) + amountCents);
  }
  return balances;
}

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

/** The transfer's two-phase decision (confirmed or cancelled, and by whom), its steps and compensations, as scheduled. */
function checkTransfer(n: number, events: readonly SagaEvent[]): string | null {
  const decisions = events.flatMap((event) => (event.type === 'SagaConfirmed' || event.type === 'SagaCancelled' ? [`${event.type}:${event.by}`] : []));
  const crash = transferPlan.upstreamDies(n);
  const by = crash === null ? bankApiName : 'check-back';
  const wanted = `${statusOf(n) === 'cancelled' ? 'SagaCancelled' : 'SagaConfirmed'}:${by}`;
  if (decisions.join(',') !== wanted) return `decided [${decisions.join(',')}] instead of [${wanted}]`;
  if (events.filter((event) => event.type === 'SagaPrepared').length !== 1) return 'not prepared once';
  const dispatched = events.filter((event) => event.type === 'StepDispatched').length;
  if (statusOf(n) === 'cancelled' && dispatched > 0) return `cancelled, yet ${dispatched} step(s) dispatched`;
  const compensated = events.flatMap((event) => (event.type === 'CompensationSucceeded' ? [event.step] : [])).join(',');
  if (compensated !== (statusOf(n) === 'compensated' ? 'recordDebit' : '')) return `compensated [${compensated}]`;
  const refused = events.some((event) => event.type === 'StepFailed' && event.step === 'creditDestination' && event.error.code === 'AccountClosed');
  if (refused !== (statusOf(n) === 'compensated')) return `credit refusal ${refused ? 'unexpected' : 'missing'}`;
  return null;
}

describe('money-transfer over NATS JetStream: two-phase start from the source bank, engine, two bank workers and the upstream as processes', () => {
  it(`${count} transfers: lacking funds cancels (never runs), a closed account refunds the debit, the rest complete; upstreams killed before and after COMMIT are settled by check-back; money is conserved`, async () => {
    cluster = new SagaCluster(transferExample, inject('natsUrl'));
    await cluster.startAll();
    const { upstream, crashed } = await cluster.prepareInstances(0, count);

    // Every upstream process scheduled to die did so where scheduled, without sending its confirm or cancel.
    expect([...crashed.keys()].sort((a, b) => a - b)).toEqual(numbers.filter((n) => transferPlan.upstreamDies(n) !== null));
    for (const [n, child] of crashed) {
      expect(await child.exited).toBe('SIGKILL');
      expect(child.lines).toContain(`at ${transferPlan.upstreamDies(n) ?? ''} transfer-${n}`);
      expect(child.lines.filter((line) => line.startsWith('transfer '))).toEqual([]);
    }
    // The surviving upstream confirmed what committed and cancelled what lacked funds.
    for (const n of numbers.filter((m) => transferPlan.upstreamDies(m) === null)) {
      expect(upstream.lines).toContain(`transfer transfer-${n} ${transferPlan.lacksFunds(n) ? 'cancelled' : 'confirmed'}`);
    }

    const counts = await cluster.settled(count, 30_000);
    const scheduled = new Map<string, number>();
    for (const n of numbers) scheduled.set(statusOf(n), (scheduled.get(statusOf(n)) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(scheduled));
    expect(Object.fromEntries(scheduled)).toEqual({ completed: 22, compensated: 8, cancelled: 10 });

    // Each ended as scheduled, each business effect and compensation applied once (the barrier ledger), one decision each.
    await expectSettledOnce(transferExample, createRegistry([moneyTransfer]), cluster.eventStore(), cluster.databases(), count, checkTransfer);

    // Money: conserved over both banks, and every balance as the schedule dictates.
    const source = readBank(cluster.dbOf('source'));
    const destination = readBank(cluster.dbOf('destination'));
    const balances = new Map([...source.balances, ...destination.balances]);
    expect(sum(balances.values())).toBe(sum(Object.values(openingBalances.source)) + sum(Object.values(openingBalances.destination)));
    expect(Object.fromEntries(balances)).toEqual(Object.fromEntries(scheduledBalances()));

    // The source bank's side: a debit and a commit marker iff the saga was confirmed; a rollback marker where the check-back cancelled.
    for (const n of numbers) {
      const id = `transfer-${n}`;
      const status = statusOf(n);
      expect(source.transfers.get(id), id).toBe(status === 'completed' ? 'settled' : status === 'compensated' ? 'refunded' : undefined);
      // Lacking funds: no marker, unless a check-back came before the cancel (then a rollback marker).
      const markers = status !== 'cancelled' ? ['committed'] : transferPlan.upstreamDies(n) === 'before-commit' ? ['rolledBack'] : [undefined, 'rolledBack'];
      expect(markers, id).toContain(source.markers.get(id));
    }
  });
});
