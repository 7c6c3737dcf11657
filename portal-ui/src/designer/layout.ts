// Where nodes go when nobody placed them: left to right in the order data flows (dagre's layered
// layout), the same for a pipeline opened from the CLI, a run's graph and "Auto-layout".
import { Graph as DagreGraph, layout as dagreLayout } from "@dagrejs/dagre";
import type { Layout } from "../api/designer";
import type { Graph } from "./pipelineDoc";

export const NODE_WIDTH = 230;
const HEADER = 52;
const PORT_ROW = 24;

export function nodeHeight(inputs: number, outputs: number): number {
  return HEADER + PORT_ROW * Math.max(inputs, outputs, 1);
}

export function autoLayout(graph: Graph): Layout {
  const g = new DagreGraph();
  g.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    g.setNode(node.id, { width: NODE_WIDTH, height: nodeHeight(node.inputs.length, node.outputs.length) });
  }
  for (const edge of graph.edges) g.setEdge(edge.source, edge.target);
  dagreLayout(g);
  const layout: Layout = {};
  for (const node of graph.nodes) {
    const placed = g.node(node.id) as { x: number; y: number; width: number; height: number };
    // dagre gives centres; React Flow places by the top-left corner.
    layout[node.id] = { x: Math.round(placed.x - placed.width / 2), y: Math.round(placed.y - placed.height / 2) };
  }
  return layout;
}

/** Every node's position: where the user put it, else where the automatic layout would. */
export function positions(graph: Graph, placed: Layout): Layout {
  const missing = graph.nodes.some((node) => placed[node.id] === undefined);
  const automatic = missing ? autoLayout(graph) : {};
  const result: Layout = {};
  for (const node of graph.nodes) {
    const at = placed[node.id] ?? automatic[node.id];
    if (at !== undefined) result[node.id] = at;
  }
  return result;
}
