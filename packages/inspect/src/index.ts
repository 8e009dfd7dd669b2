export { formatAge, formatDuration, parseDuration } from './duration.js';
export { StatsCollector, type SagaStats, type StepStats } from './stats-model.js';
export {
  instanceHistory,
  percentile,
  type EntryKind,
  type FailureView,
  type InstanceHistory,
  type Outcome,
  type StepAttempt,
  type StepErrorView,
  type StuckKind,
  type TimelineEntry,
} from './timeline.js';
export { instanceJson, isoTime, parseStored, type InstanceJson } from './views.js';
export { cursorOf, listLimits, listQueryOf, type ListLimits, type ListProblem, type ListQuery, type ListRequest } from './list-filter.js';
