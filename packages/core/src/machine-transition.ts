import { createActor, type ActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';

type MachineScope = ActorScope<AnyMachineSnapshot, EventObject>;

/** An action the machine asked for, as xstate hands it to the actor scope's executor. */
export type MachineAction = { readonly type: string; readonly params?: unknown };

/**
 * One inert actor scope per machine, reused by every transition. xstate's own pure `transition()`
 * and `initialTransition()` build a new actor (and compute its initial snapshot) on every call,
 * which costs more than the transition itself. Transitions are synchronous, so swapping the
 * executor per call is safe; the scope never starts, spawns or schedules anything.
 */
const scopes = new WeakMap<AnyStateMachine, MachineScope>();

function scopeOf(machine: AnyStateMachine): MachineScope {
  let scope = scopes.get(machine);
  if (scope === undefined) {
    const self = createActor(machine, { input: undefined });
    scope = {
      self,
      id: '',
      sessionId: '',
      logger: () => undefined,
      defer: () => undefined,
      emit: () => undefined,
      system: self.system,
      stopChild: () => undefined,
      actionExecutor: () => undefined,
    };
    scopes.set(machine, scope);
  }
  return scope;
}

/** Like xstate's `initialTransition`: the first snapshot and the actions it asks for, nothing executed. */
export function machineStart(machine: AnyStateMachine, input: unknown): [AnyMachineSnapshot, MachineAction[]] {
  const actions: MachineAction[] = [];
  const scope = scopeOf(machine);
  scope.actionExecutor = (action) => void actions.push(action);
  return [machine.getInitialSnapshot(scope, input) as AnyMachineSnapshot, actions];
}

/** Like xstate's `transition`: the next snapshot and the actions it asks for, nothing executed. */
export function machineTransition(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): [AnyMachineSnapshot, MachineAction[]] {
  const actions: MachineAction[] = [];
  const scope = scopeOf(machine);
  scope.actionExecutor = (action) => void actions.push(action);
  return [machine.transition(snapshot, event, scope) as AnyMachineSnapshot, actions];
}
