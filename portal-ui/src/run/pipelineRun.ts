// Whether a run is a pipeline's (its driver, services/pipelines/pipeline_job.py's title): its page
// then draws the pipeline's graph (PipelineGraph.tsx, loaded only for such a run: React Flow).
import type { RunDetails } from "../api/types";

export const PIPELINE_SCRIPT = "pipeline (built-in)";

export function isPipelineRun(run: RunDetails): boolean {
  return run.source.script === PIPELINE_SCRIPT;
}
