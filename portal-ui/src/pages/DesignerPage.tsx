// The designer: a pipeline draft on a canvas. The palette's items are dragged (or pressed) onto
// it, ports connected (a connection of the wrong type is refused with the reason), the selected
// node set up in the side panel; undo/redo, auto-layout, zoom; saved as the same YAML the CLI
// runs; submitted, and its steps' states shown live on the same canvas.
import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import {
  checkDefinition,
  designerPalette,
  getDraft,
  type Layout,
  type Palette,
  pipelineRunGraph,
  type Problem,
  saveDraft,
  type StepState,
  submitDefinition,
} from "../api/designer";
import { ApiError } from "../api/client";
import { runDetails } from "../api/endpoints";
import { CopyButton } from "../components/CopyButton";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { Canvas } from "../designer/Canvas";
import { type Design, canRedo, canUndo, current, type History, record, redo, startHistory, undo } from "../designer/history";
import { autoLayout, positions as positionsOf } from "../designer/layout";
import { PaletteList } from "../designer/PaletteList";
import {
  addNode,
  connect,
  connectionProblem,
  disconnect,
  freeName,
  graphOf,
  type Graph,
  type NewNode,
  nodeId,
  newPipelineText,
  removeNode,
  renameNode,
  setField,
  setStepField,
  stepTypeOf,
} from "../designer/pipelineDoc";
import { SidePanel } from "../designer/SidePanel";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import "../designer/designer.css";

const CHECK_DELAY_MS = 400;
const WATCH_INTERVAL_MS = 2000;

interface Opened {
  design: Design;
  revision: number | null; // null: not saved yet
  from: string; // where it came from, said under the title
}

async function openDraft(name: string, runId: string | null, fresh: boolean, signal: AbortSignal): Promise<Opened> {
  if (fresh) return { design: { text: newPipelineText(name), layout: {} }, revision: null, from: "a new draft" };
  if (runId !== null) {
    const graph = await pipelineRunGraph(runId, signal);
    return { design: { text: graph.definition, layout: {} }, revision: null, from: `run ${runId}` };
  }
  try {
    const draft = await getDraft(name, signal);
    return { design: { text: draft.definition, layout: draft.layout ?? {} }, revision: draft.revision, from: `draft, revision ${String(draft.revision)}` };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return { design: { text: newPipelineText(name), layout: {} }, revision: null, from: "a new draft" };
    }
    throw error;
  }
}

export default function DesignerPage() {
  const { name = "" } = useParams();
  const [search] = useSearchParams();
  const runId = search.get("run");
  const fresh = search.has("new"); // from "New pipeline": nothing to read yet
  const palette = useResource(designerPalette, "palette");
  const opened = useResource((signal) => openDraft(name, runId, fresh, signal), `${name}:${runId ?? ""}:${String(fresh)}`);
  if (palette.error) return <ErrorMessage error={palette.error} onRetry={palette.reload} />;
  if (opened.error) return <ErrorMessage error={opened.error} onRetry={opened.reload} />;
  if (palette.data === undefined || opened.data === undefined || opened.loading) return <Loading what="the designer" />;
  return (
    <ReactFlowProvider>
      <Designer key={`${name}:${runId ?? ""}`} name={name} palette={palette.data} opened={opened.data} />
    </ReactFlowProvider>
  );
}

type Notice = { tone: "info" | "error"; text: string } | null;

function Designer({ name, palette, opened }: { name: string; palette: Palette; opened: Opened }) {
  const [history, setHistory] = useState<History>(() => startHistory(opened.design));
  const [revision, setRevision] = useState(opened.revision);
  const [saved, setSaved] = useState<Design | null>(opened.revision === null ? null : opened.design);
  const [selected, setSelected] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [showYaml, setShowYaml] = useState(false);
  const [watch, setWatch] = useState<string | null>(null);
  const { text, layout } = current(history);
  const graph = useMemo(() => graphOf(text, palette), [text, palette]);
  const positions = useMemo(() => positionsOf(graph, layout), [graph, layout]);
  const editable = graph.error === null;
  const dirty = saved === null || saved.text !== text || JSON.stringify(saved.layout) !== JSON.stringify(positions);

  // The server's judgement of the whole pipeline, once typing pauses.
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      checkDefinition(text, controller.signal).then(
        (checked) => {
          setProblem(checked.problem);
        },
        (error: unknown) => {
          if (!controller.signal.aborted) setProblem({ message: (error as Error).message, step: null, field: null });
        },
      );
    }, CHECK_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [text]);

  const change = useCallback(
    (edit: (design: Design) => Design) => {
      setHistory((now) => {
        try {
          return record(now, edit(current(now)));
        } catch (error) {
          setNotice({ tone: "error", text: (error as Error).message });
          return now;
        }
      });
    },
    [],
  );
  const editText = useCallback(
    (edit: (text: string) => string) => {
      change((design) => ({ ...design, text: edit(design.text) }));
    },
    [change],
  );

  const add = (key: string, at?: { x: number; y: number }) => {
    const [kind = "", ...rest] = key.split(":");
    const detail = rest.join(":");
    const made = newNodeOf(kind, detail, palette, graph);
    if (made === null) return;
    const id = nodeId(made.node.kind, made.name);
    const place = at ?? freeSpot(positions);
    change((design) => ({
      text: addNode(design.text, made.name, made.node),
      layout: { ...positionsOf(graph, design.layout), [id]: place },
    }));
    setSelected(id);
    setNotice({ tone: "info", text: `Added ${made.name}.` });
  };

  const problemOf = (connection: Parameters<typeof connectionProblem>[2]) => connectionProblem(graph, palette, connection);
  const actions = {
    setField: (path: string[], value: unknown) => {
      editText((now) => setField(now, path, value));
    },
    setStepField: (step: string, field: string, value: unknown) => {
      editText((now) => setStepField(now, palette, step, field, value));
    },
    rename: (id: string, to: string) => {
      try {
        const next = renameNode(text, graph, id, to);
        const newId = nodeId(graph.nodes.find((node) => node.id === id)?.kind ?? "step", to);
        change((design) => {
          const placed = positionsOf(graph, design.layout);
          const moved = Object.fromEntries(Object.entries(placed).map(([key, at]) => [key === id ? newId : key, at]));
          return { text: next, layout: moved };
        });
        setSelected(newId);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
    connect: (connection: Parameters<typeof connect>[1]) => {
      const refusal = problemOf(connection);
      if (refusal !== null) {
        setNotice({ tone: "error", text: `Not connected: ${refusal}` });
        return refusal;
      }
      editText((now) => connect(now, connection));
      return null;
    },
    disconnect: (target: string, port: string) => {
      const edge = graph.edges.find((e) => e.target === target && e.targetPort === port);
      if (edge !== undefined) editText((now) => disconnect(now, edge));
    },
    remove: (id: string) => {
      editText((now) => removeNode(now, graph, id));
      setSelected(null);
    },
  };

  const onDelete = (nodes: string[], edges: string[]) => {
    editText((now) => {
      let next = now;
      for (const id of edges) {
        const edge = graph.edges.find((e) => e.id === id);
        if (edge !== undefined && !nodes.includes(edge.source) && !nodes.includes(edge.target)) next = disconnect(next, edge);
      }
      for (const id of nodes) next = removeNode(next, graphOf(next, palette), id);
      return next;
    });
    setSelected(null);
  };

  const save = async () => {
    try {
      const draft = await saveDraft(name, text, positions, revision);
      setRevision(draft.revision);
      setSaved({ text, layout: positions });
      // Saved: the address now opens this draft (not a new one, nor the run it came from),
      // without reopening the page the user is working in.
      window.history.replaceState(window.history.state, "", window.location.pathname);
      setNotice({ tone: "info", text: `Saved ${name}, revision ${String(draft.revision)}.` });
    } catch (error) {
      setNotice({ tone: "error", text: `Not saved: ${(error as Error).message}` });
    }
  };

  const submit = async () => {
    try {
      const run = await submitDefinition(text, name);
      setWatch(run.id);
      setNotice({ tone: "info", text: `Submitted: run ${run.id}.` });
    } catch (error) {
      setNotice({ tone: "error", text: `Not submitted: ${(error as Error).message}` });
    }
  };

  // Undo and redo from the keyboard wherever focus is on the page, except in a field (where
  // the browser's own undo edits the text being typed).
  useEffect(() => {
    const onKeyDown = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target !== null && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "z" && !event.shiftKey) {
        event.preventDefault();
        setHistory(undo);
      } else if (mod && (key === "y" || (key === "z" && event.shiftKey))) {
        event.preventDefault();
        setHistory(redo);
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
    };
  }, []);

  const selectedNode = graph.nodes.find((node) => node.id === selected) ?? null;
  const watched = useWatchedRun(watch);
  return (
    <div className="designer">
      <p className="breadcrumbs">
        <Link to="/designer">Designer</Link> / {name}
      </p>
      <div className="title-row">
        <PageTitle>{`Pipeline ${name}`}</PageTitle>
        <span className="status-detail">
          {opened.from}
          {dirty ? " · unsaved changes" : " · saved"}
        </span>
      </div>
      <div className="design-toolbar" role="toolbar" aria-label="Designer">
        <button type="button" onClick={() => { setHistory(undo); }} disabled={!canUndo(history)} aria-keyshortcuts="Control+Z">
          Undo
        </button>
        <button type="button" onClick={() => { setHistory(redo); }} disabled={!canRedo(history)} aria-keyshortcuts="Control+Shift+Z">
          Redo
        </button>
        <button type="button" disabled={!editable} onClick={() => { change((design) => ({ ...design, layout: autoLayout(graph) })); }}>
          Auto-layout
        </button>
        <button type="button" onClick={() => { setShowYaml((shown) => !shown); }} aria-pressed={showYaml}>
          YAML
        </button>
        <button type="button" onClick={() => void save()} disabled={!dirty}>
          Save
        </button>
        <button type="button" className="primary-button" onClick={() => void submit()} disabled={problem !== null || graph.error !== null}>
          Submit
        </button>
        {watched.status !== null && watch !== null && (
          <span className="design-watch" id="watched-run">
            <Link to={`/runs/${watch}`}>run {watch.slice(0, 8)}</Link> <StatusBadge status={watched.status} />
          </span>
        )}
      </div>
      <div className="design-messages">
        {notice !== null && (
          <p className={notice.tone === "error" ? "alert" : "notice"} role={notice.tone === "error" ? "alert" : "status"} id="designer-notice">
            {notice.text}
          </p>
        )}
        {graph.error !== null ? (
          <p className="alert" role="alert">{graph.error}</p>
        ) : (
          <p className={problem === null ? "design-ok" : "design-problem-line error-text"} id="designer-check" role="status">
            {problem === null ? "The pipeline is ready to submit." : problem.message}
          </p>
        )}
      </div>
      <div className="design-body">
        <PaletteList palette={palette} disabled={!editable} onAdd={(key) => { add(key); }} />
        <Canvas
          label="Pipeline canvas"
          graph={graph}
          positions={positions}
          states={watched.steps}
          problemNode={problem?.step ? nodeId("step", problem.step) : null}
          selected={selected}
          onSelect={setSelected}
          editable={editable}
          problemOf={problemOf}
          onConnect={(connection) => { actions.connect(connection); }}
          onRefused={(reason) => { setNotice({ tone: "error", text: `Not connected: ${reason}` }); }}
          onMove={(id, at) => { change((design) => ({ ...design, layout: { ...positionsOf(graph, design.layout), [id]: at } })); }}
          onDelete={onDelete}
          onDropItem={(item, at) => { add(item, at); }}
        />
        <SidePanel text={text} graph={graph} palette={palette} selected={selectedNode} problem={problem} editable={editable} actions={actions} />
      </div>
      {showYaml && (
        <section className="panel" aria-label="YAML">
          <h2>YAML</h2>
          <p className="status-detail">
            The same file <code>modelyard job create -f pipeline.yml</code> runs; <code>modelyard pipeline draft export {name}</code> writes it.
          </p>
          <CopyButton text={text} label="Copy YAML" what="The pipeline's YAML" copied="YAML copied" />
          <pre className="design-yaml" id="designer-yaml">{text}</pre>
        </section>
      )}
    </div>
  );
}

/** A new node for a palette item (`step:automl`, `component:prep:2`, `data:flowers`, …). */
function newNodeOf(kind: string, detail: string, palette: Palette, graph: Graph): { name: string; node: NewNode } | null {
  if (kind === "step") {
    const spec = stepTypeOf(palette, detail);
    const fields: Record<string, unknown> = {};
    for (const field of spec?.fields ?? []) {
      if (field.required && field.default !== null && field.default !== undefined) fields[field.name] = field.default;
    }
    return { name: freeName(graph, "step", detail), node: { kind: "step", stepType: detail, fields } };
  }
  if (kind === "component") {
    const at = detail.lastIndexOf(":");
    const component = detail.slice(0, at);
    return { name: freeName(graph, "step", component), node: { kind: "step", stepType: "component", component: `azureml:${detail}` } };
  }
  if (kind === "data") {
    const asset = palette.data_assets.find((a) => a.name === detail);
    const known = palette.port_types.some((type) => type.type === asset?.type && type.is_data);
    return {
      name: freeName(graph, "input", detail),
      node: { kind: "input", type: known && asset?.type ? asset.type : "uri_folder", path: `data:${detail}@latest` },
    };
  }
  if (kind === "input") {
    const isData = palette.port_types.find((type) => type.type === detail)?.is_data ?? true;
    return { name: freeName(graph, "input", isData ? "data" : "value"), node: isData ? { kind: "input", type: detail, path: "" } : { kind: "input", type: detail, value: 0 } };
  }
  if (kind === "output") return { name: freeName(graph, "output", "result"), node: { kind: "output", type: detail } };
  return null;
}

/** Below everything placed so far: where a node added from the keyboard goes. */
function freeSpot(positions: Layout): { x: number; y: number } {
  const placed = Object.values(positions);
  if (placed.length === 0) return { x: 40, y: 40 };
  return { x: Math.min(...placed.map((p) => p.x)), y: Math.max(...placed.map((p) => p.y)) + 180 };
}

const TERMINAL = new Set(["Completed", "Failed", "Canceled"]);

/** The submitted run's status and its steps' states, read every 2 s until it ends. */
function useWatchedRun(runId: string | null): { status: string | null; steps: ReadonlyMap<string, StepState> | undefined } {
  const [status, setStatus] = useState<string | null>(null);
  const [steps, setSteps] = useState<ReadonlyMap<string, StepState> | undefined>(undefined);
  const read = useCallback(() => {
    if (runId === null) return;
    void Promise.all([runDetails(runId), pipelineRunGraph(runId)]).then(
      ([run, graph]) => {
        setStatus(run.status);
        setSteps(new Map(graph.steps.map((step) => [step.name, step])));
      },
      () => undefined, // the next tick tries again
    );
  }, [runId]);
  useEffect(read, [read]);
  useInterval(read, WATCH_INTERVAL_MS, runId !== null && (status === null || !TERMINAL.has(status)));
  return { status, steps };
}
