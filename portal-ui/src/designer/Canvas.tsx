// The pipeline as a node graph (React Flow): nodes with typed ports, edges for bindings, each
// step's state while it runs. The designer edits through it; a run's page shows it read-only.
// The graph and the positions come from the caller (the YAML and the layout are the truth):
// React Flow's own changes are turned into the caller's edits, never kept here, except where a
// node is while it is being dragged and the sizes React Flow measured.
import {
  Background,
  Controls,
  type Edge,
  Handle,
  MiniMap,
  type Node,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
  useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { type DragEvent, useMemo, useState } from "react";
import type { Layout, StepState } from "../api/designer";
import { StatusBadge } from "../components/StatusBadge";
import { NODE_WIDTH } from "./layout";
import type { Connection, DesignNode, Graph } from "./pipelineDoc";
import { parseNodeId } from "./pipelineDoc";

export const PALETTE_DRAG_TYPE = "application/x-modelyard-palette";

interface NodeData extends Record<string, unknown> {
  node: DesignNode;
  state: StepState | undefined;
  problem: boolean;
}

type FlowNode = Node<NodeData, "design">;

function DesignNodeView({ data }: NodeProps<FlowNode>) {
  const { node, state, problem } = data;
  const status = state === undefined ? null : state.reused ? "Reused" : state.status;
  const classes = ["design-node", `design-node-${node.kind}`];
  if (status !== null) classes.push(`design-node-${status.toLowerCase()}`);
  if (problem) classes.push("design-node-problem");
  return (
    <div className={classes.join(" ")} data-node={node.id} data-status={status ?? undefined}>
      <div className="design-node-head">
        <span className="design-node-name">{node.name}</span>
        {status !== null && <StatusBadge status={status} />}
      </div>
      <div className="design-node-title">{node.title}</div>
      <div className="design-node-ports">
        <ul className="design-ports design-ports-in">
          {node.inputs.map((port) => (
            <li key={port.name} data-port={port.name}>
              <Handle
                type="target"
                position={Position.Left}
                id={port.name}
                title={`input ${port.name} of ${node.name}, takes ${port.types.join(" or ")}`}
              />
              {port.name}
              <span className="port-type">{port.types.join("|")}</span>
            </li>
          ))}
        </ul>
        <ul className="design-ports design-ports-out">
          {node.outputs.map((port) => (
            <li key={port.name} data-port={port.name}>
              <span className="port-type">{port.types.join("|")}</span>
              {port.name}
              <Handle
                type="source"
                position={Position.Right}
                id={port.name}
                title={`output ${port.name} of ${node.name}, gives ${port.types.join(" or ")}`}
              />
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

const NODE_TYPES = { design: DesignNodeView };

export interface CanvasProps {
  graph: Graph;
  positions: Layout;
  states?: ReadonlyMap<string, StepState>; // by step name
  problemNode?: string | null;
  selected: string | null;
  onSelect: (id: string | null) => void;
  editable: boolean;
  /** Why a connection is refused (null: it may be made). */
  problemOf?: (connection: Connection) => string | null;
  onConnect?: (connection: Connection) => void;
  onRefused?: (reason: string) => void;
  onMove?: (id: string, position: { x: number; y: number }) => void;
  onDelete?: (nodes: string[], edges: string[]) => void;
  onDropItem?: (item: string, position: { x: number; y: number }) => void;
  label: string;
}

function asConnection(value: {
  source: string | null;
  sourceHandle?: string | null;
  target: string | null;
  targetHandle?: string | null;
}): Connection | null {
  if (value.source === null || value.target === null) return null;
  return {
    source: value.source,
    sourcePort: value.sourceHandle ?? "",
    target: value.target,
    targetPort: value.targetHandle ?? "",
  };
}

export function Canvas(props: CanvasProps) {
  const { graph, positions, states, problemNode, selected, onSelect, editable } = props;
  const { problemOf, onConnect, onRefused, onMove, onDelete, onDropItem } = props;
  const flow = useReactFlow();
  // Sizes React Flow measured (it hides a node until it knows its size) and where a node is
  // while it is dragged; everything else comes from the props.
  const [measured, setMeasured] = useState<ReadonlyMap<string, { width: number; height: number }>>(new Map());
  const [dragging, setDragging] = useState<Layout>({});
  const [selectedEdge, setSelectedEdge] = useState<string | null>(null);

  const nodes = useMemo<FlowNode[]>(
    () =>
      graph.nodes.map((node) => ({
        id: node.id,
        type: "design",
        position: dragging[node.id] ?? positions[node.id] ?? { x: 0, y: 0 },
        width: NODE_WIDTH,
        measured: measured.get(node.id),
        data: {
          node,
          state: node.kind === "step" ? states?.get(node.name) : undefined,
          problem: problemNode === node.id,
        },
        selected: selected === node.id,
        draggable: editable,
        connectable: editable,
        deletable: editable,
        ariaLabel: `${node.kind} ${node.name}: ${node.title}`,
      })),
    [graph, positions, dragging, states, problemNode, selected, editable, measured],
  );

  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((edge) => {
        const target = parseNodeId(edge.target);
        const running = target.kind === "step" && states?.get(target.name)?.status === "Running";
        return {
          id: edge.id,
          source: edge.source,
          sourceHandle: edge.sourcePort,
          target: edge.target,
          targetHandle: edge.targetPort,
          selected: selectedEdge === edge.id,
          animated: running,
          deletable: editable,
          ariaLabel: `${edge.source}.${edge.sourcePort} to ${edge.target}.${edge.targetPort}`,
        };
      }),
    [graph, states, selectedEdge, editable],
  );

  const onNodesChange = (changes: NodeChange<FlowNode>[]) => {
      const sizes = new Map<string, { width: number; height: number }>();
      for (const change of changes) {
        if (change.type === "dimensions" && change.dimensions !== undefined) {
          const before = measured.get(change.id);
          if (before?.width !== change.dimensions.width || before.height !== change.dimensions.height) {
            sizes.set(change.id, change.dimensions);
          }
        } else if (change.type === "position" && change.position !== undefined) {
          const position = { x: Math.round(change.position.x), y: Math.round(change.position.y) };
          if (change.dragging === true) {
            setDragging((now) => ({ ...now, [change.id]: position }));
          } else {
            onMove?.(change.id, position); // moved with the keyboard's arrows
          }
        } else if (change.type === "select") {
          if (change.selected) onSelect(change.id);
          else if (selected === change.id) onSelect(null);
        }
      }
      if (sizes.size > 0) setMeasured((now) => new Map([...now, ...sizes]));
  };

  const onDragStop = (_event: unknown, node: FlowNode) => {
    onMove?.(node.id, { x: Math.round(node.position.x), y: Math.round(node.position.y) });
    setDragging((now) => Object.fromEntries(Object.entries(now).filter(([id]) => id !== node.id)));
  };

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    const item = event.dataTransfer.getData(PALETTE_DRAG_TYPE);
    if (item === "" || onDropItem === undefined) return;
    event.preventDefault();
    const at = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    onDropItem(item, { x: Math.round(at.x - NODE_WIDTH / 2), y: Math.round(at.y - 20) });
  };

  return (
    <div
      className="design-canvas"
      aria-label={props.label}
      role="region"
      onDragOver={(event) => {
        if (editable && event.dataTransfer.types.includes(PALETTE_DRAG_TYPE)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
        }
      }}
      onDrop={onDrop}
    >
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={(changes) => {
          for (const change of changes) {
            if (change.type === "select") setSelectedEdge(change.selected ? change.id : null);
          }
        }}
        onNodeDragStop={onDragStop}
        onPaneClick={() => {
          onSelect(null);
          setSelectedEdge(null);
        }}
        isValidConnection={(value) => {
          const connection = asConnection(value);
          return connection !== null && (problemOf?.(connection) ?? null) === null;
        }}
        onConnect={(value) => {
          const connection = asConnection(value);
          if (connection !== null) onConnect?.(connection);
        }}
        onConnectEnd={(_event, state) => {
          if (state.isValid !== false || state.toHandle === null) return;
          const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
          const reason = problemOf?.({ source: from.nodeId, sourcePort: from.id ?? "", target: to.nodeId, targetPort: to.id ?? "" });
          if (reason) onRefused?.(reason);
        }}
        onDelete={({ nodes: gone, edges: cut }) => {
          onDelete?.(
            gone.map((node) => node.id),
            cut.map((edge) => edge.id),
          );
        }}
        deleteKeyCode={editable ? ["Delete", "Backspace"] : null}
        nodesDraggable={editable}
        nodesConnectable={editable}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        minZoom={0.2}
        maxZoom={2}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Overview of the pipeline" />
      </ReactFlow>
    </div>
  );
}
