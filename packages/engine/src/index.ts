export { Engine, type EngineLog, type EngineOptions, type Ownership, type RecoveryReport } from './engine.js';
export { AppendBatcher } from './append-batcher.js';
export { ClusterMember, type ClusterMemberOptions, type MemberIdentity, type MemberStatus } from './cluster-member.js';
export { createInProcessTransport, type InProcessCheckBack, type InProcessHandler, type InProcessTransport } from './in-process-transport.js';
export { InstanceMailbox } from './instance-mailbox.js';
export { planPartitions, type PartitionPlan, type PartitionView } from './partition-plan.js';
export { systemClock, TimerService, type Clock } from './timer-service.js';
export type { DeadLetterNotice, Reply, ReplyVerdict, StartRequest, Transport, TransportHandlers } from '@sagaflow/core';
