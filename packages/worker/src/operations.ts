import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, formatProblems, StepFailure, type AnySagaDefinition, type AnyStep, type Codec } from '@sagaflow/core';
import type { CompensationHandler, WorkerContext, StepHandler } from './handler.js';

/** One operation a worker serves, a step's action or its compensation, with its codec and handler. */
export interface Operation {
  /** The operation name: the step name, or the compensation name. */
  readonly name: string;
  readonly kind: 'action' | 'compensation';
  readonly step: string;
  /** Decodes the command (parsed JSON) for the handler. */
  readonly command: Codec<unknown>;
  /** Runs the handler on a decoded command; resolves to the reply as it goes on the wire (encoded). */
  run(command: unknown, context: WorkerContext): Promise<unknown>;
}

/** The operations registered on a worker, checked against its saga. */
export class OperationTable {
  private readonly operations = new Map<string, Operation>();

  constructor(private readonly saga: AnySagaDefinition) {}

  /** Every registered operation, in registration order. */
  get all(): readonly Operation[] {
    return [...this.operations.values()];
  }

  /** Registers the handler of a step's action. */
  addStep(step: AnyStep, handler: StepHandler<unknown, unknown>): void {
    this.checkMember(step);
    const reply = step.reply as Codec<unknown>;
    this.add({
      name: step.name,
      kind: 'action',
      step: step.name,
      command: step.command as Codec<unknown>,
      async run(command, context) {
        const result = await handler(command, context);
        const encoded = reply.encode(result);
        const checked = decodeWith(reply, encoded);
        if (E.isLeft(checked)) {
          throw new StepFailure('InvalidReply', `the handler of ${step.name} returned an invalid reply: ${formatProblems(checked.left)}`, { retryable: true });
        }
        return encoded;
      },
    });
  }

  /** Registers the handler of a step's compensation. */
  addCompensation(step: AnyStep, handler: CompensationHandler<unknown>): void {
    this.checkMember(step);
    const compensation = step.compensation;
    if (compensation === undefined) {
      throw new Error(`Step "${step.name}" of saga "${this.saga.name}" has no compensation: there is nothing to register a compensation handler for`);
    }
    this.add({
      name: compensation.name,
      kind: 'compensation',
      step: step.name,
      command: compensation.command as Codec<unknown>,
      async run(command, context) {
        await handler(command, context);
        return undefined;
      },
    });
  }

  private checkMember(step: AnyStep): void {
    const declared = this.saga.steps.get(step.name);
    if (declared === undefined) {
      const known = [...this.saga.steps.keys()].join(', ');
      throw new Error(`"${step.name}" is not a step of saga "${this.saga.name}" (its steps: ${known})`);
    }
    if (declared !== step) {
      throw new Error(`Step "${step.name}" is not the one saga "${this.saga.name}" was defined with: register the step object the saga file exports`);
    }
  }

  private add(operation: Operation): void {
    const existing = this.operations.get(operation.name);
    if (existing !== undefined) {
      const what = (o: Operation): string => (o.kind === 'action' ? `step "${o.step}"` : `the compensation of step "${o.step}"`);
      throw new Error(`Operation "${operation.name}" of saga "${this.saga.name}" is already handled by this worker (${what(existing)}); cannot register ${what(operation)}`);
    }
    this.operations.set(operation.name, operation);
  }
}
