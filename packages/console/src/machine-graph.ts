import type { AnySagaDefinition } from '@sagaflow/core';

/** A state of a saga's machine, as the console draws it. */
export interface GraphNode {
  /** The state's full id (`saga.step.dispatching`). */
  readonly id: string;
  /** Its own key, the label. */
  readonly label: string;
  /** The id of the state it is inside, if any (drawn as a cluster). */
  readonly parent: string | null;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
}

/** A transition between two states. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The event, `always` for an eventless transition, or `after` for a delayed one. */
  readonly event: string;
}

export interface MachineGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** The parts of an XState state node the graph reads (the machine's own state nodes have them). */
interface StateNodeLike {
  readonly id: string;
  readonly key: string;
  readonly type: GraphNode['type'];
  readonly parent?: StateNodeLike | undefined;
  readonly states: Record<string, StateNodeLike>;
  readonly transitions: Map<string, readonly { readonly target?: readonly StateNodeLike[] | undefined }[]>;
  readonly always?: readonly { readonly target?: readonly StateNodeLike[] | undefined }[] | undefined;
  readonly after: readonly { readonly target?: readonly StateNodeLike[] | undefined }[];
}

/**
 * The states and transitions of a saga's XState machine, every level of it, for the console's Sagas
 * page (laid out in the browser). Events the engine sends itself (`xstate.after…`) show as `after`.
 */
export function machineGraph(machine: AnySagaDefinition['machine']): MachineGraph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const edge = (from: string, to: string, event: string): void => {
    const key = `${from}\u0000${to}\u0000${event}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ from, to, event });
  };
  const visit = (node: StateNodeLike): void => {
    nodes.push({ id: node.id, label: node.key, parent: node.parent?.parent === undefined ? null : node.parent.id, type: node.type });
    for (const [event, transitions] of node.transitions) {
      const label = event.startsWith('xstate.after') ? 'after' : event;
      for (const transition of transitions) for (const target of transition.target ?? []) edge(node.id, target.id, label);
    }
    for (const transition of node.always ?? []) for (const target of transition.target ?? []) edge(node.id, target.id, 'always');
    for (const child of Object.values(node.states)) visit(child);
  };
  for (const child of Object.values((machine.root as unknown as StateNodeLike).states)) visit(child);
  return { nodes, edges };
}
