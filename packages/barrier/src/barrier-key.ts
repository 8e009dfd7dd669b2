/** Kind of guarded operation: the forward action or its compensation. */
export type EffectKind = 'action' | 'compensation';

/**
 * The operation a barrier guards. A `DispatchEffect` from `@sagaflow/core` fits as is.
 * `key` is the effect's idempotency key, `<instance>/<step>/<kind>`: stable across attempts.
 */
export interface BarrierEffect {
  readonly key: string;
  readonly kind: EffectKind;
}

/** `<instance>/<step>/<kind>`: instance non-empty (may hold `/`), step non-empty without `/`. */
const keyPattern = /^(.+)\/([^/]+)\/(action|compensation)$/s;

/**
 * Checks an effect before any SQL runs.
 * @throws TypeError for an empty key, an unknown kind, or a key whose shape does not match its kind.
 */
export function checkEffect(effect: BarrierEffect): void {
  if (typeof effect !== 'object' || effect === null) throw new TypeError('Barrier effect must be an object with "key" and "kind"');
  const { key, kind } = effect;
  if (kind !== 'action' && kind !== 'compensation') {
    throw new TypeError(`Barrier effect kind must be "action" or "compensation", got ${JSON.stringify(kind)}`);
  }
  if (typeof key !== 'string' || key.trim() === '') throw new TypeError('Barrier key must be a non-empty string');
  const match = keyPattern.exec(key);
  if (match === null || match[3] !== kind || match[1]?.trim() === '' || match[2]?.trim() === '') {
    throw new TypeError(`Invalid barrier key ${JSON.stringify(key)} for kind "${kind}": expected "<instance>/<step>/${kind}"`);
  }
}

/** The key of the forward operation a compensation undoes: `…/compensation` → `…/action`. */
export const forwardKeyOf = (compensationKey: string): string => `${compensationKey.slice(0, -'compensation'.length)}action`;
