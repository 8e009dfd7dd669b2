export { connectNats, maskUrl, natsSettingsFromEnv, NatsUnavailableError, type NatsSettings } from './connect.js';
export { deadLetterMessage, getDeadLetter, listDeadLetters, putDeadLetter, type DeadLetter, type DeadLetterInput } from './dead-letters.js';
export { DeadLetterGoneError, deadLetterOrGone, dropDeadLetter, payloadView, replayDeadLetter, type PayloadView, type Replayed } from './dead-letter-repair.js';
export { checkToken, naming, type Naming } from './naming.js';
export { StreamPublishError, StreamPublisher, streamPublisher, type StoredAck, type StreamPublishOptions } from './stream-publisher.js';
export { createNatsTransport, type NatsTransport, type NatsTransportOptions } from './nats-transport.js';
export {
  commandBody,
  commandHeaderForms,
  commandHeaders,
  compactReplyBody,
  decodeReply,
  effectOfMessage,
  header,
  parseJson,
  readCommandEnvelope,
  readReply,
  replyBody,
  replyMsgId,
  ReplyEnvelope,
  decodeStart,
  startBody,
  startEnvelopeOf,
  StartEnvelope,
  startKinds,
  startMsgId,
  startRequestBody,
  startRequestOf,
  type CommandConsumer,
  type CommandEnvelope,
  type CommandHeaderForm,
  type StartKind,
  type StartRequestFields,
} from './protocol.js';
export {
  askCheckBack,
  checkBackBody,
  checkBackQueue,
  CheckBackReply,
  CheckBackRequest,
  decodeCheckBackReply,
  decodeCheckBackRequest,
} from './check-back.js';
export {
  ensureConsumer,
  ensureOperationConsumer,
  ensureSharedConsumers,
  ensureStream,
  ensureStreams,
  renewPartitionConsumers,
  renewWideConsumers,
  retireWholeNamespaceConsumers,
  streamConfigs,
  StreamConflictError,
  type ConsumerSettings,
} from './topology.js';
export {
  defaultLeaseTtlMs,
  ensureNamespaceConfig,
  minLeaseTtlMs,
  NamespaceConfigError,
  readNamespaceConfig,
  type NamespaceConfig,
  type NamespaceSettings,
} from './namespace-config.js';
export { checkEngineId, openPartitionLeases } from './partition-leases.js';
export { readClusterView, type ClusterView, type EngineView, type PartitionView } from './cluster-view.js';
export { askOwner, NoOwnerError, OwnerRequest, serveOwnerRequests, type OwnerAnswer, type OwnerHandlers } from './owner-requests.js';
export {
  NoStartStreamError,
  publishStartRequest,
  requestCancel,
  requestConfirm,
  requestPrepare,
  requestStart,
  startMessage,
  type StartMessage,
  type StartPublishOptions,
} from './start-client.js';
export {
  InterventionRequest,
  NoEngineError,
  eventLoopBusyShare,
  pingEngine,
  requestIntervention,
  serveControl,
  type ControlHandlers,
  type EngineStatus,
  type EventLoopCounters,
  type InterventionAnswer,
} from './control.js';
export { registerNatsMetrics } from './nats-metrics.js';
export { activeTraceHeaders, traceHeadersOf, withTraceHeaders } from './trace-headers.js';
