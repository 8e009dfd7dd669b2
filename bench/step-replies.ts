/** The replies of the standard workload's steps, computed in process (no worker, no NATS), for the benches of the engine's parts. */
import type { DispatchEffect, ReplyOutcome, SagaInput } from '@sagaflow/core';
import * as steps from './steps.js';
import type { Order } from './steps.js';

/** What the worker would reply for a command: the peers' step bodies, a thrown ShipmentError as a non-retryable failure. */
export function replyTo(operation: string, command: unknown): ReplyOutcome {
  try {
    switch (operation) {
      case 'reserveInventory':
        return { ok: true, reply: steps.reserveInventory(command as Order) };
      case 'chargePayment':
        return { ok: true, reply: steps.chargePayment(command as Order) };
      case 'createShipment':
        return { ok: true, reply: steps.createShipment(command as Order) };
      case 'releaseInventory': {
        const { order, reservation } = command as { order: Order; reservation: { reservationId: string } };
        return { ok: true, reply: steps.releaseInventory(order, reservation) };
      }
      case 'refundPayment': {
        const { order, payment } = command as { order: Order; payment: { paymentId: string; amount: number } };
        return { ok: true, reply: steps.refundPayment(order, payment) };
      }
      default:
        throw new Error(`unknown operation ${operation}`);
    }
  } catch (error) {
    if (!(error instanceof steps.ShipmentError)) throw error;
    return { ok: false, error: { code: error.name, message: error.message, retryable: false } };
  }
}

/**
 * Drives one saga of the standard workload in process: its start, then a reply to every command it
 * dispatches, computed by {@link replyTo}, in the order they were dispatched. `decide` decides one input
 * (keeping whatever state it needs) and returns the commands that input dispatched.
 */
export function driveSaga(instanceId: string, failShipment: boolean, decide: (input: SagaInput) => readonly DispatchEffect[]): void {
  const order: Order = { id: instanceId, sku: 'sku-1', qty: 1, amount: 42, failShipment };
  let pending = decide({ type: 'start', saga: 'bench-order', instanceId, input: order });
  while (pending.length > 0) {
    const next: DispatchEffect[] = [];
    for (const command of pending) next.push(...decide({ type: 'reply', effectId: command.id, outcome: replyTo(command.operation, command.command) }));
    pending = next;
  }
}
