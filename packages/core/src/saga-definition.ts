import type * as t from 'io-ts';
import type { AnyStateMachine } from 'xstate';
import { defaultCheckBackRetry, defaultCompensationRetry, defaultStepRetry, retryPolicy, type RetryPolicy } from './retry-policy.js';
import { compileFlow, machineKit, type MachineKit } from './saga-machine.js';

/** An io-ts codec whose decoded type is `A`. Encoded values must be JSON. */
export type Codec<A> = t.Type<A, unknown, unknown>;

/** What a step's command builder can read: the saga input and the replies of completed steps. */
export interface StepContext<I> {
  readonly instanceId: string;
  readonly input: I;
  /** The decoded reply of an earlier, completed step. Throws if that step has no reply. */
  readonly replyOf: <R>(step: Step<I, any, R, any>) => R; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** How a completed (or possibly completed) step is undone. */
export interface CompensationSpec<I, R, CC> {
  /** Name of the compensating operation, e.g. `releaseInventory`. */
  readonly name: string;
  readonly command: Codec<CC>;
  /** Builds the compensation command; `reply` is absent when the step's outcome is unknown (timed out). */
  toCommand(context: StepContext<I>, reply: R | undefined): CC;
  readonly retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout in milliseconds. */
  readonly timeoutMs?: number;
}

/** A step as a saga file declares it. */
export interface StepSpec<I, C, R, CC = unknown> {
  /** Unique within the saga; letters, digits, `_` and `-`. */
  readonly name: string;
  readonly command: Codec<C>;
  readonly reply: Codec<R>;
  toCommand(context: StepContext<I>): C;
  readonly compensation?: CompensationSpec<I, R, CC>;
  readonly retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout in milliseconds; a timed-out attempt counts as a retryable failure of unknown outcome. */
  readonly timeoutMs?: number;
  /** Error codes that are never retried: the saga compensates at once. */
  readonly nonRetryable?: readonly string[];
}

/** A step with its policies resolved. */
export interface Step<I, C, R, CC = unknown> extends StepSpec<I, C, R, CC> {
  readonly kind: 'step';
  readonly retryPolicy: RetryPolicy;
  readonly attemptTimeoutMs: number;
  readonly compensationRetryPolicy: RetryPolicy;
  readonly compensationTimeoutMs: number;
}

/** Steps that run at once; all must succeed, and on failure the finished ones are compensated. */
export interface ParallelGroup<I> {
  readonly kind: 'parallel';
  readonly name: string;
  readonly steps: readonly AnyStep<I>[];
}

/** A step of any payload types (erased, as XState's `AnyStateMachine`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep<I = any> = Step<I, any, any, any>;

/** One element of a saga's sequence. */
export type FlowItem<I> = AnyStep<I> | ParallelGroup<I>;

/** Saga-wide options: a deadline, and how a prepared (two-phase) start is confirmed. */
export interface SagaOptions {
  /** Whole-saga timeout: past it (counted from the first step), the saga stops and compensates. */
  readonly deadlineMs?: number;
  /** Two-phase start: how long a prepared instance waits before asking its upstream (check-back), and how those asks are retried. */
  readonly confirmation?: { readonly timeoutMs?: number; readonly retry?: Partial<RetryPolicy> };
}

/** The saga-wide options with defaults applied. */
export interface ResolvedSagaOptions {
  readonly deadlineMs: number | null;
  readonly confirmationTimeoutMs: number;
  readonly checkBackRetry: RetryPolicy;
}

/** Default confirmation timeout of a prepared instance before the first check-back. */
export const defaultConfirmationTimeoutMs = 10_000;

/** A compiled saga: its identity, codecs, steps and XState machine. */
export interface SagaDefinition<I = unknown> {
  readonly name: string;
  readonly version: number;
  readonly input: Codec<I>;
  readonly options: ResolvedSagaOptions;
  readonly steps: ReadonlyMap<string, AnyStep<I>>;
  readonly machine: AnyStateMachine;
  /**
   * The shape `define` was given: steps in sequence and parallel groups, by name, for tools that draw
   * the saga (the console). `null` for a hand-written machine (`defineMachine`), whose shape is its machine's.
   */
  readonly flow: readonly FlowOutline[] | null;
}

/** One item of a saga's flow as tools see it: a step, or a parallel group of steps. */
export type FlowOutline = { readonly kind: 'step'; readonly name: string } | { readonly kind: 'parallel'; readonly name: string; readonly steps: readonly string[] };

/** A saga of any input type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySagaDefinition = SagaDefinition<any>;

/** Default per-attempt timeout of steps and compensations. */
export const defaultTimeoutMs = 30_000;

const namePattern = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Starts a saga definition. Declare its steps with the builder, then `define` the sequence. */
export function saga<I>(name: string, options: { readonly version: number; readonly input: Codec<I> } & SagaOptions): SagaBuilder<I> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`Invalid saga name "${name}": use lower-case letters, digits and "-"`);
  if (!Number.isInteger(options.version) || options.version < 1) {
    throw new Error(`Invalid version ${String(options.version)} for saga "${name}": a positive integer is required`);
  }
  for (const [label, value] of [['deadlineMs', options.deadlineMs], ['confirmation.timeoutMs', options.confirmation?.timeoutMs]] as const) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`Invalid ${label} for saga "${name}": must be > 0`);
  }
  const resolved: ResolvedSagaOptions = {
    deadlineMs: options.deadlineMs ?? null,
    confirmationTimeoutMs: options.confirmation?.timeoutMs ?? defaultConfirmationTimeoutMs,
    checkBackRetry: retryPolicy(defaultCheckBackRetry, options.confirmation?.retry, `check-backs of saga "${name}"`),
  };
  return new SagaBuilder(name, options.version, options.input, resolved);
}

/** Collects the steps of one saga. */
export class SagaBuilder<I> {
  /** @internal */
  constructor(
    readonly name: string,
    readonly version: number,
    readonly input: Codec<I>,
    readonly options: ResolvedSagaOptions,
  ) {}

  /** Declares a step. */
  step<C, R, CC = unknown>(spec: StepSpec<I, C, R, CC>): Step<I, C, R, CC> {
    const where = `step "${spec.name}" of saga "${this.name}"`;
    if (!namePattern.test(spec.name)) throw new Error(`Invalid name for ${where}: use letters, digits, "_" and "-"`);
    for (const [label, value] of [['timeoutMs', spec.timeoutMs], ['compensation.timeoutMs', spec.compensation?.timeoutMs]] as const) {
      if (value !== undefined && !(value > 0)) throw new Error(`Invalid ${label} for ${where}: must be > 0`);
    }
    return {
      ...spec,
      kind: 'step',
      retryPolicy: retryPolicy(defaultStepRetry, spec.retry, where),
      attemptTimeoutMs: spec.timeoutMs ?? defaultTimeoutMs,
      compensationRetryPolicy: retryPolicy(defaultCompensationRetry, spec.compensation?.retry, `compensation of ${where}`),
      compensationTimeoutMs: spec.compensation?.timeoutMs ?? defaultTimeoutMs,
    };
  }

  /** Groups steps that run in parallel. */
  parallel(name: string, steps: readonly AnyStep<I>[]): ParallelGroup<I> {
    if (!namePattern.test(name)) throw new Error(`Invalid name for parallel group "${name}" of saga "${this.name}"`);
    if (steps.length < 2) throw new Error(`Parallel group "${name}" of saga "${this.name}" needs at least two steps`);
    return { kind: 'parallel', name, steps };
  }

  /** Compiles a sequence of steps and parallel groups into the saga's machine. */
  define(flow: readonly FlowItem<I>[]): SagaDefinition<I> {
    if (flow.length === 0) throw new Error(`Saga "${this.name}" has no steps`);
    const steps = this.collectSteps(flow);
    const outline = flow.map((item): FlowOutline => (item.kind === 'step' ? { kind: 'step', name: item.name } : { kind: 'parallel', name: item.name, steps: item.steps.map((step) => step.name) }));
    return this.build(steps, compileFlow(machineKit(this.name, steps, this.options), flow, this.options.deadlineMs !== null), outline);
  }

  /**
   * Compiles a hand-written machine. `build` receives the kit of state builders and helper
   * actions the engine understands (`kit.step`, `kit.parallel`, `kit.endStates`, `kit.createMachine`).
   */
  defineMachine(steps: readonly AnyStep<I>[], build: (kit: MachineKit) => AnyStateMachine): SagaDefinition<I> {
    const stepMap = this.collectSteps(steps);
    return this.build(stepMap, build(machineKit(this.name, stepMap, this.options)), null);
  }

  private collectSteps(items: readonly FlowItem<I>[]): ReadonlyMap<string, AnyStep<I>> {
    const steps = new Map<string, AnyStep<I>>();
    const names = new Set<string>();
    const add = (name: string): void => {
      if (names.has(name)) throw new Error(`Saga "${this.name}" declares "${name}" twice: step and group names must be unique`);
      names.add(name);
    };
    for (const item of items) {
      add(item.name);
      for (const step of item.kind === 'step' ? [item] : item.steps) {
        if (item.kind === 'parallel') add(step.name);
        steps.set(step.name, step);
      }
    }
    return steps;
  }

  private build(steps: ReadonlyMap<string, AnyStep<I>>, machine: AnyStateMachine, flow: readonly FlowOutline[] | null): SagaDefinition<I> {
    return { name: this.name, version: this.version, input: this.input, options: this.options, steps, machine, flow };
  }
}
