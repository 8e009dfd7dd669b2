import { formatProblems, type DecodeProblem } from './codec.js';

/** Errors of the saga domain, as data. Each carries a one-line `message` for people. */
export type SagaError =
  | { readonly _tag: 'InvalidInput'; readonly saga: string; readonly problems: readonly DecodeProblem[]; readonly message: string }
  | { readonly _tag: 'UnknownSaga'; readonly saga: string; readonly version: number | null; readonly message: string }
  | { readonly _tag: 'InstanceNotFound'; readonly instanceId: string; readonly message: string }
  | { readonly _tag: 'InstanceExists'; readonly instanceId: string; readonly message: string }
  | {
      readonly _tag: 'CorruptEvent';
      readonly instanceId: string;
      readonly revision: number;
      readonly problems: readonly DecodeProblem[];
      readonly message: string;
    }
  | {
      readonly _tag: 'HistoryDiverged';
      readonly saga: string;
      readonly version: number;
      readonly instanceId: string;
      readonly revision: number;
      readonly eventType: string;
      readonly expected: string;
      readonly actual: string;
      readonly message: string;
    }
  | {
      readonly _tag: 'InvalidReply';
      readonly instanceId: string;
      readonly step: string;
      readonly problems: readonly DecodeProblem[];
      readonly message: string;
    }
  | { readonly _tag: 'InvalidCommand'; readonly saga: string; readonly step: string; readonly problems: readonly DecodeProblem[]; readonly message: string }
  | { readonly _tag: 'InterventionRefused'; readonly instanceId: string; readonly action: string; readonly status: string; readonly message: string }
  | { readonly _tag: 'UnsupportedAction'; readonly saga: string; readonly action: string; readonly message: string };

/** Constructors, so every error of a kind reads the same. */
export const sagaError = {
  invalidInput: (saga: string, problems: readonly DecodeProblem[]): SagaError => ({
    _tag: 'InvalidInput',
    saga,
    problems,
    message: `Invalid input for saga "${saga}": ${formatProblems(problems)}`,
  }),
  unknownSaga: (saga: string, version: number | null, known: readonly string[]): SagaError => ({
    _tag: 'UnknownSaga',
    saga,
    version,
    message: `Unknown saga "${saga}"${version === null ? '' : ` version ${version}`}; known: ${known.length > 0 ? known.join(', ') : '(none)'}`,
  }),
  instanceNotFound: (instanceId: string): SagaError => ({ _tag: 'InstanceNotFound', instanceId, message: `No saga instance "${instanceId}"` }),
  instanceExists: (instanceId: string): SagaError => ({
    _tag: 'InstanceExists',
    instanceId,
    message: `Saga instance "${instanceId}" already exists`,
  }),
  corruptEvent: (instanceId: string, revision: number, problems: readonly DecodeProblem[], what = 'event'): SagaError => ({
    _tag: 'CorruptEvent',
    instanceId,
    revision,
    problems,
    message: `Corrupted ${what} at revision ${revision} of instance "${instanceId}": ${formatProblems(problems)}`,
  }),
  diverged: (
    at: { saga: string; version: number; instanceId: string; revision: number; eventType: string },
    expected: string,
    actual: string,
  ): SagaError => ({
    _tag: 'HistoryDiverged',
    ...at,
    expected,
    actual,
    message:
      `History of instance "${at.instanceId}" diverges from saga "${at.saga}" version ${at.version} ` +
      `at revision ${at.revision} (${at.eventType}): the definition now gives ${expected}, the history has ${actual}`,
  }),
  invalidReply: (instanceId: string, step: string, problems: readonly DecodeProblem[]): SagaError => ({
    _tag: 'InvalidReply',
    instanceId,
    step,
    problems,
    message: `Invalid reply for step "${step}" of instance "${instanceId}": ${formatProblems(problems)}`,
  }),
  invalidCommand: (saga: string, step: string, problems: readonly DecodeProblem[]): SagaError => ({
    _tag: 'InvalidCommand',
    saga,
    step,
    problems,
    message: `Saga "${saga}" built an invalid command for "${step}": ${formatProblems(problems)}`,
  }),
  interventionRefused: (instanceId: string, action: string, status: string, why: string): SagaError => ({
    _tag: 'InterventionRefused',
    instanceId,
    action,
    status,
    message: `Cannot ${action} instance "${instanceId}" (status ${status}): ${why}`,
  }),
  unsupportedAction: (saga: string, action: string): SagaError => ({
    _tag: 'UnsupportedAction',
    saga,
    action,
    message: `Saga "${saga}" runs action "${action}", which the engine does not know; use the kit's helper actions`,
  }),
};
