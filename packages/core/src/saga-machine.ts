import { assign, setup, type AnyStateMachine } from 'xstate';
import type { AnyStep, FlowItem, ResolvedSagaOptions } from './saga-definition.js';
import { backoffDelay } from './retry-policy.js';
import {
  initialContext,
  nextCompensation,
  type SagaContext,
  type SagaFailure,
  type SagaMachineEvent,
  type SagaMachineInput,
} from './saga-context.js';

/** Root id of every saga machine: absolute targets are `#saga.<state>`. */
export const sagaMachineId = 'saga';

/** Delay names the engine recognises, `<purpose>:<step>`; any other delay is a custom timer. */
export const delayPurposes = ['stepTimeout', 'stepRetry', 'compensationTimeout', 'compensationRetry'] as const;
/** Delay names of the whole instance (no step). */
export const instanceDelayPurposes = ['sagaDeadline', 'checkBack', 'checkBackRetry', 'startDelay'] as const;
/** One of {@link delayPurposes} or {@link instanceDelayPurposes}, or `custom`. */
export type TimerPurpose = (typeof delayPurposes)[number] | (typeof instanceDelayPurposes)[number] | 'custom';

/** State tags that carry the instance status; states without one are `running`. */
export const statusTags = {
  compensating: 'status:compensating',
  stuck: 'status:stuck',
  completed: 'status:completed',
  compensated: 'status:compensated',
  pending: 'status:pending',
  cancelled: 'status:cancelled',
} as const;

/**
 * State names every saga machine uses: the end states at the root, and `next` among the
 * compensation states (keyed by step name). A step or group so named would replace them.
 */
const reservedStateNames: readonly string[] = ['compensating', 'completed', 'compensated', 'next', 'entry', 'pending', 'scheduled', 'cancelled', 'run'];
/** The input of actors made only to compute transitions (see machine-transition.ts); their context is never used. */
const inertInput: SagaMachineInput = { instanceId: '', input: null };

type Args = { readonly context: SagaContext; readonly event: SagaMachineEvent };
type StateConfig = Record<string, unknown>;

/** Builders of saga states and the helper actions the engine interprets. */
export interface MachineKit {
  /** States of one step: dispatch, timeout, retry with backoff; `onSuccess`/`onFailure` are targets. */
  step(name: string, targets: { readonly onSuccess: string; readonly onFailure?: string }): StateConfig;
  /** A parallel group of steps; on completion goes to `onSuccess`, or compensates if a branch failed. */
  parallel(name: string, steps: readonly string[], targets: { readonly onSuccess: string }): StateConfig;
  /** The `compensating`, `completed` and `compensated` states every saga machine needs. */
  endStates(): Record<string, StateConfig>;
  /**
   * Creates the machine from a root config (`initial` + `states`), with the saga setup applied and
   * the start states (two-phase start, delayed start) in front of `initial`.
   */
  createMachine(config: { readonly initial: string; readonly states: Record<string, StateConfig> }): AnyStateMachine;
  /** A parent state for the flow states that compensates when the saga's deadline passes. */
  deadline(flowStates: Record<string, StateConfig>, first: string): StateConfig;
}

const withStep = (record: Readonly<Record<string, number>>, step: string, value: number): Record<string, number> => ({ ...record, [step]: value });
const without = (record: Readonly<Record<string, number>>, step: string): Record<string, number> => {
  const { [step]: _, ...rest } = record;
  return rest;
};
const addOnce = (list: readonly string[], item: string): readonly string[] => (list.includes(item) ? list : [...list, item]);

/** Creates the kit for a saga's steps. */
export function machineKit(sagaName: string, steps: ReadonlyMap<string, AnyStep>, options: ResolvedSagaOptions): MachineKit {
  for (const name of steps.keys()) {
    if (reservedStateNames.includes(name)) throw new Error(`Saga "${sagaName}" cannot name a step "${name}": the name is taken by the machine's own states`);
  }
  const stepOf = (name: string): AnyStep => {
    const step = steps.get(name);
    if (step === undefined) throw new Error(`Saga "${sagaName}" has no step "${name}"`);
    return step;
  };
  const delays: Record<string, (args: Args) => number> = {
    sagaDeadline: () => options.deadlineMs ?? 0,
    checkBack: () => options.confirmationTimeoutMs,
    checkBackRetry: ({ context }) => backoffDelay(options.checkBackRetry, context.checkBacks, `${context.instanceId}/check-back/${context.checkBacks}`),
    startDelay: ({ context }) => Math.max(0, (context.startAt ?? context.createdAt) - context.createdAt),
  };
  for (const step of steps.values()) {
    delays[`stepTimeout:${step.name}`] = () => step.attemptTimeoutMs;
    delays[`stepRetry:${step.name}`] = ({ context }) =>
      backoffDelay(step.retryPolicy, context.attempts[step.name] ?? 1, `${context.instanceId}/${step.name}/${context.attempts[step.name] ?? 1}`);
    delays[`compensationTimeout:${step.name}`] = () => step.compensationTimeoutMs;
    delays[`compensationRetry:${step.name}`] = ({ context }) => {
      const attempt = context.compensationAttempts[step.name] ?? 1;
      return backoffDelay(step.compensationRetryPolicy, attempt, `${context.instanceId}/${step.name}/compensation/${attempt}`);
    };
  }

  const isAttempt = (step: string) => ({ event }: Args): boolean =>
    (event.type === 'step.succeeded' || event.type === 'step.failed' || (event.type === 'effect.deadLettered' && event.kind === 'action')) &&
    event.step === step;
  const isCurrent = (step: string) => ({ context, event }: Args): boolean =>
    isAttempt(step)({ context, event }) && 'attempt' in event && context.inFlight[step] === event.attempt;
  const canRetry = (step: string) => ({ context }: Args): boolean =>
    (context.attempts[step] ?? 0) < (context.budget[step] ?? stepOf(step).retryPolicy.maxAttempts);
  const isRetryableFailure = ({ event }: Args): boolean => event.type === 'step.failed' && event.error.retryable;
  /** An operator action naming this step, or naming none. */
  const names = (step: string) => ({ event }: Args): boolean =>
    (event.type === 'operator.retry' || event.type === 'operator.skip') && (event.step === undefined || event.step === step);

  const dispatch = (step: string) => [
    assign(({ context }: Args) => {
      const attempt = (context.attempts[step] ?? 0) + 1;
      return { attempts: withStep(context.attempts, step, attempt), inFlight: withStep(context.inFlight, step, attempt) };
    }),
    { type: 'dispatchStep', params: ({ context }: Args) => ({ step, attempt: context.attempts[step] }) },
  ];
  const settle = (step: string) => assign(({ context }: Args) => ({ inFlight: without(context.inFlight, step) }));
  const markUnknown = (step: string) =>
    assign(({ context }: Args) => ({
      inFlight: without(context.inFlight, step),
      toCompensate: stepOf(step).compensation ? addOnce(context.toCompensate, step) : context.toCompensate,
    }));
  const succeed = (step: string) =>
    assign(({ context, event }: Args) => ({
      inFlight: without(context.inFlight, step),
      replies: { ...context.replies, [step]: event.type === 'step.succeeded' ? event.reply : undefined },
      toCompensate: stepOf(step).compensation ? addOnce(context.toCompensate, step) : context.toCompensate,
    }));
  const fail = (step: string, group?: string) =>
    assign(({ context, event }: Args) => {
      const failure: SagaFailure =
        event.type === 'step.failed'
          ? { step, code: event.error.code, message: event.error.message }
          : { step, code: 'Timeout', message: `no reply within ${stepOf(step).attemptTimeoutMs} ms, ${context.attempts[step] ?? 0} attempt(s)` };
      return {
        failure: context.failure ?? failure,
        failedGroups: group === undefined ? context.failedGroups : addOnce(context.failedGroups, group),
      };
    });
  /** Stops forward progress: steps in flight may have run, so they are compensated too. */
  const stopWith = (code: string, message: (event: SagaMachineEvent) => string) =>
    assign(({ context, event }: Args) => {
      const unknown = Object.keys(context.inFlight).filter((step) => stepOf(step).compensation !== undefined);
      return {
        inFlight: {},
        toCompensate: unknown.reduce(addOnce, context.toCompensate),
        failure: context.failure ?? {
          // The step in flight, or else (waiting to retry) the step last dispatched.
          step: Object.keys(context.inFlight)[0] ?? Object.keys(context.attempts).at(-1) ?? '',
          code,
          message: message(event),
        },
      };
    });
  const abort = stopWith('Aborted', (event) => (event.type === 'operator.abort' ? `aborted by ${event.by}: ${event.reason}` : 'aborted'));
  const deadlinePassed = stopWith('DeadlineExceeded', () => `the saga's deadline of ${options.deadlineMs ?? 0} ms passed`);

  const stepStates = (name: string, onSuccess: string, onFailure: string, group?: string): StateConfig => {
    const groupFailed = ({ context }: Args): boolean => group !== undefined && context.failedGroups.includes(group);
    const mayRetry = (args: Args): boolean => canRetry(name)(args) && !groupFailed(args);
    return {
      initial: 'attempt',
      states: {
        attempt: {
          entry: dispatch(name),
          after: {
            [`stepTimeout:${name}`]: [
              { guard: mayRetry, target: 'backoff', actions: markUnknown(name) },
              { target: onFailure, actions: [markUnknown(name), fail(name, group)] },
            ],
          },
          on: {
            'effect.deadLettered': { guard: isCurrent(name), target: 'stuck', actions: markUnknown(name) },
            'step.succeeded': { guard: isCurrent(name), target: onSuccess, actions: succeed(name) },
            'step.failed': [
              { guard: (args: Args) => isCurrent(name)(args) && isRetryableFailure(args) && mayRetry(args), target: 'backoff', actions: settle(name) },
              { guard: isCurrent(name), target: onFailure, actions: [settle(name), fail(name, group)] },
            ],
          },
        },
        backoff: {
          after: { [`stepRetry:${name}`]: group === undefined ? 'attempt' : [{ guard: groupFailed, target: onFailure }, { target: 'attempt' }] },
        },
        stuck: {
          // A dead-lettered command: its outcome is unknown and an operator decides (retry, or abort).
          tags: [statusTags.stuck],
          entry: { type: 'recordStuck', params: { step: name } },
          on: {
            'operator.retry': {
              guard: names(name),
              target: 'attempt',
              actions: assign(({ context }: Args) => ({
                budget: withStep(context.budget, name, (context.attempts[name] ?? 0) + stepOf(name).retryPolicy.maxAttempts),
              })),
            },
          },
        },
        ...(group === undefined ? {} : { done: { type: 'final' }, failed: { type: 'final' } }),
      },
    };
  };

  const compensationStates = (name: string): StateConfig => {
    const isCurrentCompensation = ({ context, event }: Args): boolean =>
      (event.type === 'compensation.succeeded' || event.type === 'compensation.failed' || (event.type === 'effect.deadLettered' && event.kind === 'compensation')) &&
      context.compensating?.step === name &&
      context.compensating.attempt === event.attempt;
    const mayRetry = ({ context }: Args): boolean =>
      (context.compensationAttempts[name] ?? 0) < (context.compensationBudget[name] ?? stepOf(name).compensationRetryPolicy.maxAttempts);
    const done = assign(({ context }: Args) => ({ compensating: null, compensated: addOnce(context.compensated, name) }));
    const settleCompensation = assign({ compensating: null });
    const namesThisStep = names(name);
    return {
      initial: 'attempt',
      states: {
        attempt: {
          entry: [
            assign(({ context }: Args) => {
              const attempt = (context.compensationAttempts[name] ?? 0) + 1;
              return { compensationAttempts: withStep(context.compensationAttempts, name, attempt), compensating: { step: name, attempt } };
            }),
            { type: 'dispatchCompensation', params: ({ context }: Args) => ({ step: name, attempt: context.compensationAttempts[name] }) },
          ],
          after: {
            [`compensationTimeout:${name}`]: [
              { guard: mayRetry, target: 'backoff', actions: settleCompensation },
              { target: 'stuck', actions: settleCompensation },
            ],
          },
          on: {
            'effect.deadLettered': { guard: isCurrentCompensation, target: 'stuck', actions: settleCompensation },
            'compensation.succeeded': { guard: isCurrentCompensation, target: `#${sagaMachineId}.compensating.next`, actions: done },
            'compensation.failed': [
              { guard: (args: Args) => isCurrentCompensation(args) && mayRetry(args), target: 'backoff', actions: settleCompensation },
              { guard: isCurrentCompensation, target: 'stuck', actions: settleCompensation },
            ],
          },
        },
        backoff: { after: { [`compensationRetry:${name}`]: 'attempt' } },
        stuck: {
          tags: [statusTags.stuck],
          entry: { type: 'recordStuck', params: { step: name } },
          on: {
            'operator.retry': {
              guard: namesThisStep,
              target: 'attempt',
              actions: assign(({ context }: Args) => ({
                compensationBudget: withStep(
                  context.compensationBudget,
                  name,
                  (context.compensationAttempts[name] ?? 0) + stepOf(name).compensationRetryPolicy.maxAttempts,
                ),
              })),
            },
            'operator.skip': {
              guard: namesThisStep,
              target: `#${sagaMachineId}.compensating.next`,
              actions: done,
            },
          },
        },
      },
    };
  };

  /** The states before the first step: routing, two-phase start with check-backs, delayed start. */
  const startStates = (first: string): Record<string, StateConfig> => {
    const extendCheckBackBudget = assign(({ context }: Args) => ({ checkBackBudget: context.checkBacks + options.checkBackRetry.maxAttempts }));
    const mayAskAgain = ({ context }: Args): boolean => context.checkBacks < (context.checkBackBudget ?? options.checkBackRetry.maxAttempts);
    return {
      entry: {
        always: [
          { guard: ({ context }: Args) => context.mode === 'prepared', target: 'pending' },
          { guard: ({ context }: Args) => context.startAt !== null && context.startAt > context.createdAt, target: 'scheduled' },
          { target: first },
        ],
      },
      pending: {
        tags: [statusTags.pending],
        initial: 'waiting',
        states: {
          waiting: { after: { checkBack: 'asking' } },
          asking: {
            entry: [
              assign(({ context }: Args) => ({ checkBacks: context.checkBacks + 1 })),
              { type: 'requestCheckBack', params: ({ context }: Args) => ({ attempt: context.checkBacks }) },
            ],
            after: { checkBackRetry: [{ guard: mayAskAgain, target: 'asking', reenter: true }, { target: 'unanswered' }] },
          },
          unanswered: {
            tags: [statusTags.stuck],
            entry: { type: 'recordStuck', params: { step: 'check-back' } },
            on: { 'operator.retry': { target: 'asking', actions: extendCheckBackBudget } },
          },
        },
        on: {
          'saga.confirmed': { target: first },
          'saga.cancelled': { target: `#${sagaMachineId}.cancelled` },
        },
      },
      scheduled: {
        tags: [statusTags.pending],
        after: { startDelay: first },
        on: { 'saga.cancelled': { target: `#${sagaMachineId}.cancelled` } },
      },
      cancelled: { type: 'final', tags: [statusTags.cancelled] },
    };
  };

  const compensable = [...steps.values()].filter((step) => step.compensation !== undefined).map((step) => step.name);
  const abortable = { 'operator.abort': { target: `#${sagaMachineId}.compensating`, actions: abort } };

  return {
    step: (name, targets) => {
      stepOf(name);
      return { ...stepStates(name, targets.onSuccess, targets.onFailure ?? `#${sagaMachineId}.compensating`), on: abortable };
    },
    parallel: (name, groupSteps, targets) => ({
      type: 'parallel',
      states: Object.fromEntries(groupSteps.map((step) => [step, stepStates(step, 'done', 'failed', name)])),
      onDone: [
        { guard: ({ context }: Args) => context.failedGroups.includes(name), target: `#${sagaMachineId}.compensating` },
        { target: targets.onSuccess },
      ],
      on: abortable,
    }),
    endStates: () => ({
      compensating: {
        tags: [statusTags.compensating],
        initial: 'next',
        states: {
          next: {
            always: [
              ...compensable.map((step) => ({ guard: ({ context }: Args) => nextCompensation(context) === step, target: step })),
              { target: `#${sagaMachineId}.compensated` },
            ],
          },
          ...Object.fromEntries(compensable.map((step) => [step, compensationStates(step)])),
        },
      },
      completed: { type: 'final', tags: [statusTags.completed], entry: 'recordCompleted' },
      compensated: { type: 'final', tags: [statusTags.compensated], entry: 'recordCompensated' },
    }),
    createMachine: (config) => {
      const states = { ...startStates(`#${sagaMachineId}.${config.initial}`), ...config.states };
      return setup({
        types: {},
        actions: {
          dispatchStep: (_: unknown, _params: { step: string; attempt: number }) => undefined,
          dispatchCompensation: (_: unknown, _params: { step: string; attempt: number }) => undefined,
          recordStuck: (_: unknown, _params: { step: string }) => undefined,
          recordCompleted: () => undefined,
          recordCompensated: () => undefined,
          requestCheckBack: (_: unknown, _params: { attempt: number }) => undefined,
        },
        delays,
      }).createMachine({
        id: sagaMachineId,
        // Actors made only to compute transitions (ours, and those xstate's pure `transition()` makes on
        // every call) have no input: give them an empty context rather than throw.
        context: ({ input }: { input: SagaMachineInput | undefined }) => initialContext(input ?? inertInput),
        initial: 'entry',
        states,
      } as never) as unknown as AnyStateMachine;
    },
    deadline: (flowStates, first) => ({
      initial: first,
      states: flowStates,
      after: { sagaDeadline: { target: `#${sagaMachineId}.compensating`, actions: deadlinePassed } },
    }),
  };
}

/** Compiles a sequence of steps and groups into a machine; with a deadline, the steps run inside a `run` state that carries it. */
export function compileFlow<I>(kit: MachineKit, flow: readonly FlowItem<I>[], withDeadline = false): AnyStateMachine {
  const parent = withDeadline ? `#${sagaMachineId}.run.` : `#${sagaMachineId}.`;
  const states: Record<string, StateConfig> = {};
  for (const item of flow) {
    if (reservedStateNames.includes(item.name)) throw new Error(`A saga cannot name a parallel group "${item.name}": the name is taken by the machine's own states`);
  }
  flow.forEach((item, index) => {
    const following = flow[index + 1];
    const onSuccess = following === undefined ? `#${sagaMachineId}.completed` : `${parent}${following.name}`;
    states[item.name] =
      item.kind === 'step'
        ? kit.step(item.name, { onSuccess })
        : kit.parallel(item.name, item.steps.map((step) => step.name), { onSuccess });
  });
  const first = flow[0];
  if (first === undefined) throw new Error('A saga needs at least one step');
  if (withDeadline) return kit.createMachine({ initial: 'run', states: { run: kit.deadline(states, first.name), ...kit.endStates() } });
  return kit.createMachine({ initial: first.name, states: { ...states, ...kit.endStates() } });
}
