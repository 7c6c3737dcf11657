// A pipeline run's steps as the designer draws them, each with its state, read again while the
// run is live; a step opens its own run; the whole opens in the designer as a new draft.
import { ReactFlowProvider } from "@xyflow/react";
import { useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { designerPalette, pipelineRunGraph } from "../api/designer";
import type { RunDetails } from "../api/types";
import { ErrorMessage, Loading } from "../components/Feedback";
import { Canvas } from "../designer/Canvas";
import { positions as positionsOf } from "../designer/layout";
import { graphOf, parseNodeId, parsePipeline } from "../designer/pipelineDoc";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import "../designer/designer.css";

const INTERVAL_MS = 3000;

export default function PipelineGraph({ run, live }: { run: RunDetails; live: boolean }) {
  const palette = useResource(designerPalette, "palette");
  const answer = useResource((signal) => pipelineRunGraph(run.id, signal), run.id);
  const { reload } = answer;
  useInterval(reload, INTERVAL_MS, live);
  const navigate = useNavigate();
  const [selected, setSelected] = useState<string | null>(null);
  const definition = answer.data?.definition ?? "";
  const graph = useMemo(() => (palette.data === undefined ? null : graphOf(definition, palette.data)), [definition, palette.data]);
  const positions = useMemo(() => (graph === null ? {} : positionsOf(graph, {})), [graph]);
  const states = useMemo(() => new Map((answer.data?.steps ?? []).map((step) => [step.name, step])), [answer.data]);
  const error = palette.error ?? answer.error;
  if (error) return <ErrorMessage error={error} onRetry={answer.reload} />;
  if (graph === null || answer.data === undefined) return <Loading what="the pipeline's graph" />;
  const parsed = parsePipeline(definition);
  const display = "data" in parsed && typeof parsed.data.display_name === "string" ? parsed.data.display_name : "pipeline";
  return (
    <section className="panel" aria-label="Pipeline" id="pipeline-graph">
      <h2>Pipeline</h2>
      <p className="status-detail">
        Select a step to open its run.{" "}
        <Link to={`/designer/${encodeURIComponent(display)}?run=${encodeURIComponent(run.id)}`}>Open in the designer</Link>
      </p>
      <ReactFlowProvider>
        <Canvas
          label="Pipeline run graph"
          graph={graph}
          positions={positions}
          states={states}
          selected={selected}
          onSelect={(id) => {
            setSelected(id);
            if (id === null) return;
            const step = states.get(parseNodeId(id).name);
            if (step?.run_id) void navigate(`/runs/${step.run_id}`);
          }}
          editable={false}
        />
      </ReactFlowProvider>
    </section>
  );
}
