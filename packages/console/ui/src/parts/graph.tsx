import dagreModule from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';

/** A saga's machine: its states and transitions, laid out by dagre (top to bottom) and drawn as SVG. */

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly parent: string | null;
  readonly type: string;
}
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly event: string;
}

const charWidth = 7;

/** What the drawing reads of dagre's graph once laid out (dagre's own declarations do not resolve under NodeNext: extensionless imports). */
interface LaidOut {
  setGraph(label: object): void;
  setDefaultEdgeLabel(label: () => object): void;
  setNode(id: string, label: { label: string; width: number; height: number }): void;
  setParent(id: string, parent: string): void;
  setEdge(from: string, to: string, label: { label: string; width: number; height: number }, name: string): void;
  graph(): { width?: number; height?: number };
  nodes(): string[];
  node(id: string): { x: number; y: number; width: number; height: number; label: string };
  edges(): { v: string; w: string; name?: string }[];
  edge(key: { v: string; w: string; name?: string }): { points?: { x: number; y: number }[]; x?: number; y?: number; label?: string };
}

const dagre = dagreModule as unknown as { graphlib: { Graph: new (options: object) => LaidOut }; layout(graph: LaidOut): void };

export function MachineGraph({ nodes, edges }: { readonly nodes: readonly GraphNode[]; readonly edges: readonly GraphEdge[] }) {
  const layout = useMemo(() => {
    const graph = new dagre.graphlib.Graph({ compound: true, multigraph: true });
    graph.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 36, marginx: 8, marginy: 8 });
    graph.setDefaultEdgeLabel(() => ({}));
    const compound = new Set(nodes.flatMap((node) => (node.parent === null ? [] : [node.parent])));
    for (const node of nodes) graph.setNode(node.id, { label: node.label, width: Math.max(60, node.label.length * charWidth + 16), height: compound.has(node.id) ? 0 : 28 });
    for (const node of nodes) if (node.parent !== null) graph.setParent(node.id, node.parent);
    // dagre lays out edges between leaves: a transition to or from a compound state goes to (or leaves from) its first leaf.
    const leafOf = (id: string): string => {
      const child = nodes.find((node) => node.parent === id);
      return child === undefined ? id : leafOf(child.id);
    };
    edges.forEach((edge, at) => {
      const from = leafOf(edge.from);
      const to = leafOf(edge.to);
      if (from !== to) graph.setEdge(from, to, { label: edge.event, width: edge.event.length * 6, height: 12 }, String(at));
    });
    dagre.layout(graph);
    return graph;
  }, [nodes, edges]);
  const size = layout.graph();
  return (
    <div class="machine-scroll">
    <svg class="machine" width={size.width ?? 0} height={size.height ?? 0} viewBox={`0 0 ${size.width ?? 0} ${size.height ?? 0}`} role="img" aria-label="State machine">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" />
        </marker>
      </defs>
      {layout.nodes().map((id: string) => {
        const node = layout.node(id);
        const cluster = nodes.some((candidate) => candidate.parent === id);
        const type = nodes.find((candidate) => candidate.id === id)?.type ?? 'atomic';
        return (
          <g class={`state ${cluster ? 'cluster' : ''} type-${type}`} data-state={id}>
            <rect x={node.x - node.width / 2} y={node.y - node.height / 2} width={node.width} height={node.height} rx={cluster ? 8 : 4} />
            <text x={cluster ? node.x - node.width / 2 + 6 : node.x} y={cluster ? node.y - node.height / 2 + 12 : node.y + 4} text-anchor={cluster ? 'start' : 'middle'}>
              {node.label}
            </text>
          </g>
        );
      })}
      {layout.edges().map((key: { v: string; w: string; name?: string }) => {
        const edge = layout.edge(key);
        const points: { x: number; y: number }[] = edge.points ?? [];
        const path = points.map((point, at) => `${at === 0 ? 'M' : 'L'} ${point.x} ${point.y}`).join(' ');
        return (
          <g class="transition">
            <path d={path} marker-end="url(#arrow)" />
            {edge.x !== undefined && edge.y !== undefined && (
              <text x={edge.x} y={edge.y} text-anchor="middle">
                {String(edge.label ?? '')}
              </text>
            )}
          </g>
        );
      })}
    </svg>
    </div>
  );
}
