import type { BarrierEffect, Outcome } from '../../src/index.js';

/** What the business code under test does: write its row, then return `reply` or throw `fail`. */
export interface Plan {
  readonly reply?: unknown;
  readonly fail?: Error;
  /** PostgreSQL only: awaited after the write, to hold the transaction open while a concurrent delivery arrives. */
  readonly pause?: () => Promise<void>;
}

/**
 * One barrier over one fresh database (file or tables) plus a `business` table that the
 * business code writes a row into, so a test can see what was committed.
 */
export interface BarrierHarness {
  run(effect: BarrierEffect, plan?: Plan): Promise<Outcome>;
  /** How many times business code ran for `key`, rolled back or not. */
  calls(key: string): number;
  /** Business rows committed for `key`. */
  applied(key: string): Promise<number>;
  /** The barrier's stored outcome for `key`. */
  find(key: string): Promise<Outcome | undefined>;
}

let instances = 0;
/** A fresh saga instance id, so keys never collide across tests. */
export const freshInstance = (): string => `order-${process.pid}-${++instances}`;

export const action = (instance: string, step = 'chargePayment'): BarrierEffect => ({ key: `${instance}/${step}/action`, kind: 'action' });
export const compensation = (instance: string, step = 'chargePayment'): BarrierEffect => ({ key: `${instance}/${step}/compensation`, kind: 'compensation' });

/** Counts business invocations per key. */
export class CallCounter {
  readonly #calls = new Map<string, number>();
  hit(key: string): void {
    this.#calls.set(key, (this.#calls.get(key) ?? 0) + 1);
  }
  get(key: string): number {
    return this.#calls.get(key) ?? 0;
  }
}
