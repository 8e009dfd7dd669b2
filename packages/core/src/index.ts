export { decodeWith, formatProblems, type DecodeProblem } from './codec.js';
export { decide, type Decision, type ReplyOutcome, type SagaInput } from './decider.js';
export { effectOf } from './commit.js';
export { replay } from './replay.js';
export { effectId, effectIdParts, effectKey, instanceOfEffectId, timerId, type CancelEffect, type CheckBackEffect, type DispatchEffect, type Effect, type ScheduleEffect } from './effects.js';
export { sagaError, type SagaError } from './errors.js';
export { contextOf, isInFlight, outstandingEffects, statusOf, type InstanceState, type TimerRecord } from './instance-state.js';
export { createRegistry, type SagaRegistry } from './registry.js';
export { backoffDelay, defaultCompensationRetry, defaultStepRetry, type RetryPolicy } from './retry-policy.js';
export {
  interventionActions,
  nextCompensation,
  type InterventionAction,
  type SagaContext,
  type SagaFailure,
  type SagaMachineEvent,
  type StepError,
} from './saga-context.js';
export {
  saga,
  SagaBuilder,
  defaultTimeoutMs,
  type AnySagaDefinition,
  type ResolvedSagaOptions,
  type SagaOptions,
  type AnyStep,
  type Codec,
  type CompensationSpec,
  type FlowItem,
  type FlowOutline,
  type ParallelGroup,
  type SagaDefinition,
  type Step,
  type StepContext,
  type StepSpec,
} from './saga-definition.js';
export { SagaEvent, InputEvent, DecisionEvent, isInputEvent, sagaEventTypes, type SagaEventType, type SagaTrace } from './saga-events.js';
export { machineKit, sagaMachineId, statusTags, type MachineKit, type TimerPurpose } from './saga-machine.js';
export { isSagaStatus, isTerminal, sagaStatuses, terminalStatuses, type SagaStatus } from './status.js';
export * from './event-store.js';
export { summaryOf } from './instance-state.js';
export { decodeRecorded, decodeStream, encodeEvent } from './recorded.js';
export { createMemoryEventStore, type MemoryEventStoreOptions } from './memory-event-store.js';
export { checkAppendRequest, checkLimit } from './append-request.js';
export type { CheckBackAnswer, DeadLetterNotice, Intervention, Reply, ReplyVerdict, StartRequest, TraceHeaders, Transport, TransportHandlers } from './transport.js';
export { NotOwnerError, type EngineMember, type PartitionedTransport, type PartitionLease, type PartitionLeases } from './cluster.js';
export { isStepFailure, StepFailure, type StepFailureOptions } from './step-failure.js';
export { checkPartitions, defaultPartitions, maxPartitions, partitionOf } from './partition.js';
