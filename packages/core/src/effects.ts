/** Send a step's command or a compensation to the worker that implements it. */
export interface DispatchEffect {
  readonly type: 'dispatch';
  /** Unique per attempt: `<instance>/<step>/<kind>/<attempt>`. The broker's dedup id. */
  readonly id: string;
  /** Stable across attempts: `<instance>/<step>/<kind>`. The worker's idempotency key. */
  readonly key: string;
  readonly kind: 'action' | 'compensation';
  readonly saga: string;
  readonly instanceId: string;
  readonly step: string;
  /** The operation a worker implements: the step name, or the compensation name. */
  readonly operation: string;
  readonly attempt: number;
  /** The command, encoded by its codec (JSON). */
  readonly command: unknown;
}

/** Arm a durable timer; when it fires, the engine feeds `{ type: 'timer', timerId }` back in. */
export interface ScheduleEffect {
  readonly type: 'schedule';
  readonly instanceId: string;
  readonly timerId: string;
  readonly dueAt: number;
}

/** Disarm a timer the machine no longer waits for. */
export interface CancelEffect {
  readonly type: 'cancel';
  readonly instanceId: string;
  readonly timerId: string;
}

/** Ask a pending instance's upstream whether its local transaction committed; the answer comes back as `checkBackAnswer`. */
export interface CheckBackEffect {
  readonly type: 'checkBack';
  /** `<instance>/check-back/<attempt>`. */
  readonly id: string;
  readonly instanceId: string;
  readonly saga: string;
  readonly attempt: number;
}

/** Something the engine carries out after the events that decided it are appended. */
export type Effect = DispatchEffect | ScheduleEffect | CancelEffect | CheckBackEffect;

/** Effect ids are derived from their cause, so a re-dispatch is recognisable. */
export const effectKey = (instanceId: string, step: string, kind: DispatchEffect['kind']): string => `${instanceId}/${step}/${kind}`;
export const effectId = (instanceId: string, step: string, kind: DispatchEffect['kind'], attempt: number): string =>
  `${effectKey(instanceId, step, kind)}/${attempt}`;

/** The step, kind and attempt of an effect id of `instanceId` (the inverse of {@link effectId}), or `null` if it is not one. */
export function effectIdParts(id: string, instanceId: string): { step: string; kind: DispatchEffect['kind']; attempt: number } | null {
  if (!id.startsWith(`${instanceId}/`)) return null;
  const rest = id.slice(instanceId.length + 1);
  const attemptAt = rest.lastIndexOf('/');
  const kindAt = rest.lastIndexOf('/', attemptAt - 1);
  const kind = rest.slice(kindAt + 1, attemptAt);
  const attempt = rest.slice(attemptAt + 1);
  if (kindAt <= 0 || (kind !== 'action' && kind !== 'compensation') || !/^[1-9]\d*$/.test(attempt)) return null;
  return { step: rest.slice(0, kindAt), kind, attempt: Number(attempt) };
}
/**
 * The instance of an effect id, read from its end: step names never contain "/" (instance ids may), so
 * the instance is what precedes the last three segments. `null` if `id` is not an effect id.
 */
export function instanceOfEffectId(id: string): string | null {
  const attemptAt = id.lastIndexOf('/');
  const kindAt = id.lastIndexOf('/', attemptAt - 1);
  const stepAt = id.lastIndexOf('/', kindAt - 1);
  if (stepAt <= 0) return null;
  const instanceId = id.slice(0, stepAt);
  return effectIdParts(id, instanceId) === null ? null : instanceId;
}
/** Timer ids are derived from the revision of the event that scheduled them. */
export const timerId = (instanceId: string, revision: number): string => `${instanceId}/timer/${revision}`;
