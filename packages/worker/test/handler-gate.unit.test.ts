/**
 * The handler gate and the wait of a command held for it, with a test double of a JetStream message that
 * counts its heartbeats (`working`) and hand-backs (`nak`).
 */
import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { HandlerGate, whenAdmitted } from '../src/handler-gate.js';
import { eventually } from './support/harness.js';

/** Test double of a received command. */
function heldMessage(): JsMsg & { beats: number; handedBack: number } {
  const msg = { beats: 0, handedBack: 0, working: () => void msg.beats++, nak: () => void msg.handedBack++ };
  return msg as unknown as JsMsg & typeof msg;
}

describe('the handler gate', () => {
  it('admits up to its size, then the waiting commands in arrival order as handlers leave', async () => {
    const gate = new HandlerGate(2);
    expect([gate.tryEnter(), gate.tryEnter(), gate.tryEnter()]).toEqual([true, true, false]);
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => gate.enter().then((admitted) => admitted && order.push(n)));
    expect(gate.held).toBe(3);
    gate.leave();
    gate.leave();
    await Promise.resolve();
    expect(order).toEqual([1, 2]);
    // A slot handed to a waiting command is not free for a newcomer.
    expect(gate.tryEnter()).toBe(false);
    gate.leave();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('turns the waiting commands away when closed', async () => {
    const gate = new HandlerGate(1);
    gate.tryEnter();
    const waiting = gate.enter();
    gate.close();
    await expect(waiting).resolves.toBe(false);
    await expect(gate.enter()).resolves.toBe(false);
  });

  it('extends the ack deadline of a held command until it is admitted, and not once it runs', async () => {
    const gate = new HandlerGate(1);
    let finishFirst: () => void = () => undefined;
    const ran: JsMsg[] = [];
    const handle = whenAdmitted(gate, 10, (msg) => {
      ran.push(msg);
      return ran.length === 1 ? new Promise<void>((resolve) => (finishFirst = resolve)) : Promise.resolve();
    });
    const first = heldMessage();
    const second = heldMessage();
    const firstDone = handle(first);
    const secondDone = handle(second);
    await eventually(() => (second.beats >= 3 ? true : undefined), 'heartbeats of the held command');
    expect(first.beats).toBe(0);
    expect(ran).toEqual([first]);
    finishFirst();
    await Promise.all([firstDone, secondDone]);
    expect(ran).toEqual([first, second]);
    const beatsWhenAdmitted = second.beats;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.beats).toBe(beatsWhenAdmitted);
    expect(second.handedBack).toBe(0);
  });

  it('hands a held command back when the gate closes before its turn', async () => {
    const gate = new HandlerGate(1);
    const ran: JsMsg[] = [];
    const handle = whenAdmitted(gate, 0, (msg) => {
      ran.push(msg);
      return new Promise<void>(() => undefined);
    });
    void handle(heldMessage());
    const held = heldMessage();
    const done = handle(held);
    gate.close();
    await done;
    expect(held.handedBack).toBe(1);
    expect(ran).toHaveLength(1);
  });
});
