import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { sightingOf, stageReport, stagesOf, type Sighting, type SightingKind } from './saga-stages.js';

const encoder = new TextEncoder();
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));
/** Headers of the given names and values. */
const hdrs = (entries: Record<string, string>) => {
  const h = headers();
  for (const [name, value] of Object.entries(entries)) h.set(name, value);
  return h;
};
const seen = (...steps: [SightingKind, number][]): Sighting[] => steps.map(([kind, at]) => ({ kind, at }));

/** A W1-shaped saga at concurrency 1: start, three commands and replies, the end. */
const w1 = (engine: number, worker: number, hop: number): Sighting[] => {
  let at = 0;
  const steps: [SightingKind, number][] = [['start.pub', at]];
  steps.push(['start.deliv', (at += hop)]);
  for (let step = 0; step < 3; step++) {
    steps.push(['cmd.pub', (at += engine)], ['cmd.deliv', (at += hop)], ['reply.pub', (at += worker)], ['reply.deliv', (at += hop)]);
  }
  steps.push(['end.pub', (at += engine)]);
  return seen(...steps);
};

describe('stagesOf', () => {
  it('splits a saga into engine turns, worker turns and server hops', () => {
    // Binary fractions, so the sums are exact.
    const split = stagesOf(w1(1, 0.5, 0.25));
    expect(split?.stages).toEqual({ totalMs: 4 + 1.5 + 1.75, engineMs: 4, engineTurns: 4, workerMs: 1.5, workerTurns: 3, serverMs: 1.75, serverHops: 7 });
  });

  it('leaves out a saga not seen from its start request to its end', () => {
    expect(stagesOf(w1(1, 0.5, 0.25).slice(1))).toBeNull();
    expect(stagesOf(w1(1, 0.5, 0.25).slice(0, -1))).toBeNull();
    expect(stagesOf([])).toBeNull();
  });

  it('attributes only consecutive sightings: a redelivered command leaves its gap out', () => {
    const split = stagesOf(seen(['start.pub', 0], ['start.deliv', 1], ['cmd.pub', 3], ['cmd.deliv', 4], ['cmd.deliv', 40], ['reply.pub', 41], ['reply.deliv', 42], ['end.pub', 44]));
    expect(split?.stages).toMatchObject({ totalMs: 44, engineMs: 4, engineTurns: 2, workerMs: 1, workerTurns: 1, serverMs: 3, serverHops: 3 });
  });
});

describe('stageReport', () => {
  it('gives medians over the sagas, of totals and of single turns', () => {
    const report = stageReport([w1(1, 0.5, 0.25), w1(2, 0.5, 0.25), w1(3, 0.5, 0.25), w1(1, 0.5, 0.25).slice(1)]);
    expect(report).toMatchObject({ sagas: 3, engineMs: 8, engineTurnMs: 2, engineTurns: 4, workerTurnMs: 0.5, serverHops: 7 });
  });

  it('is null when no saga was seen whole', () => {
    expect(stageReport([])).toBeNull();
  });
});

describe('sightingOf', () => {
  const ns = 'bench1';
  it('tells publications from deliveries by the acknowledgement subject', () => {
    expect(sightingOf(`${ns}.start.bench-order`, '_INBOX.abc.1', undefined, json({ instanceId: 'o-1' }))).toEqual({ kind: 'start.pub', instanceId: 'o-1' });
    expect(sightingOf(`${ns}.start.bench-order`, '$JS.ACK.S.C.1.2.3.4.0', undefined, json({ instanceId: 'o-1' }))).toEqual({ kind: 'start.deliv', instanceId: 'o-1' });
    expect(sightingOf(`${ns}.cmd.bench-order.reserveInventory`, '$JS.ACK.x', hdrs({ 'Sagaflow-Instance': 'o-2', 'Sagaflow-Effect': 'o-2/reserveInventory/action/1' }), json({ id: 'o-2' }))).toEqual({
      kind: 'cmd.deliv',
      instanceId: 'o-2',
    });
    expect(sightingOf(`${ns}.reply.bench-order`, undefined, undefined, json({ instanceId: 'o-3' }))).toEqual({ kind: 'reply.pub', instanceId: 'o-3' });
  });

  it("reads Sagaflow's instance from the message id of minimal commands and compact replies", () => {
    const command = hdrs({ 'Nats-Msg-Id': 'o-4/reserveInventory/action/1' });
    expect(sightingOf(`${ns}.cmd.bench-order.reserveInventory`, undefined, command, json({ id: 'o-4' }))).toEqual({ kind: 'cmd.pub', instanceId: 'o-4' });
    expect(sightingOf(`${ns}.cmd.bench-order.reserveInventory`, '$JS.ACK.x', command, json({ id: 'o-4' }))).toEqual({ kind: 'cmd.deliv', instanceId: 'o-4' });
    const reply = hdrs({ 'Nats-Msg-Id': 'reply:o-4/reserveInventory/action/1' });
    expect(sightingOf(`${ns}.reply.bench-order`, undefined, reply, json({ ok: true, reply: {} }))).toEqual({ kind: 'reply.pub', instanceId: 'o-4' });
    expect(sightingOf(`${ns}.reply.bench-order`, '$JS.ACK.y', reply, json({ ok: true, reply: {} }))).toEqual({ kind: 'reply.deliv', instanceId: 'o-4' });
  });

  it('counts only the status changes that end a saga', () => {
    expect(sightingOf(`${ns}.evt.bench-order.completed`, undefined, undefined, json({ instanceId: 'o-1' }))).toEqual({ kind: 'end.pub', instanceId: 'o-1' });
    expect(sightingOf(`${ns}.evt.bench-order.compensated`, undefined, undefined, json({ instanceId: 'o-1' }))?.kind).toBe('end.pub');
    expect(sightingOf(`${ns}.evt.bench-order.running`, undefined, undefined, json({ instanceId: 'o-1' }))).toBeNull();
  });

  it('ignores acknowledgements, API traffic and bodies that name no instance', () => {
    expect(sightingOf('$JS.ACK.S.C.1.2.3.4.0', undefined, undefined, new Uint8Array())).toBeNull();
    expect(sightingOf('_INBOX.abc.1', undefined, undefined, json({ stream: 'S', seq: 1 }))).toBeNull();
    expect(sightingOf(`${ns}.reply.bench-order`, undefined, undefined, encoder.encode('not json'))).toBeNull();
  });
});
