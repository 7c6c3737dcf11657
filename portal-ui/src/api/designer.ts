// The pipeline designer's routes (server/routes/pipeline_designer.py): its palette, the server's
// judgement of a definition, drafts, submitting one, and a pipeline run's graph with its steps.
import { answerOf, api } from "./client";

export interface InputPortSpec {
  name: string;
  types: string[];
  required: boolean;
}

export interface OutputPortSpec {
  name: string;
  type: string;
}

export type FieldKind = "string" | "number" | "integer" | "boolean" | "mapping" | "list";

export interface FieldSpec {
  name: string;
  required: boolean;
  kind: FieldKind;
  default: unknown;
  description: string;
}

export interface StepTypeSpec {
  type: string;
  title: string;
  description: string;
  inputs: InputPortSpec[];
  outputs: OutputPortSpec[];
  fields: FieldSpec[];
}

export interface PortTypeSpec {
  type: string;
  is_data: boolean;
  accepts: string[];
}

export interface ComponentSpec {
  name: string;
  version: number | string;
  description: string | null;
  inputs: { name: string; type: string; optional: boolean; default: unknown }[];
  outputs: OutputPortSpec[];
}

export interface Palette {
  step_types: StepTypeSpec[];
  port_types: PortTypeSpec[];
  components: ComponentSpec[];
  computes: string[];
  data_assets: { name: string; latest_version: number | null; type: string | null }[];
}

/** What the server finds wrong with a definition, naming the step and field where it can. */
export interface Problem {
  message: string;
  step: string | null;
  field: string | null;
}

export interface Checked {
  name: string;
  experiment: string | null;
  problem: Problem | null;
}

export type Layout = Record<string, { x: number; y: number }>;

export interface Draft {
  name: string;
  definition: string;
  layout: Layout | null;
  revision: number;
  problem: Problem | null;
  updated_at?: string | null;
  updated_by?: string | null;
}

export interface DraftSummary {
  name: string;
  revision: number;
  updated_at?: string | null;
  updated_by?: string | null;
}

export interface StepState {
  name: string;
  run_id: string | null;
  status: string | null;
  reused: boolean;
  reason: string | null;
}

export interface PipelineRunGraph {
  definition: string;
  steps: StepState[];
}

export interface SubmittedRun {
  id: string;
  experiment: string;
  status: string;
}

export function designerPalette(signal?: AbortSignal): Promise<Palette> {
  return answerOf(api.GET("/api/v1/pipeline-designer/palette", { signal }));
}

export function checkDefinition(definition: string, signal?: AbortSignal): Promise<Checked> {
  return answerOf(api.POST("/api/v1/pipeline-designer/check", { body: { definition }, signal }));
}

export function submitDefinition(definition: string, draft: string | null): Promise<SubmittedRun> {
  return answerOf(api.POST("/api/v1/pipeline-designer/submit", { body: { definition, draft } }));
}

export function listDrafts(signal?: AbortSignal): Promise<DraftSummary[]> {
  return answerOf(api.GET("/api/v1/pipeline-drafts", { signal }));
}

export function getDraft(name: string, signal?: AbortSignal): Promise<Draft> {
  return answerOf(api.GET("/api/v1/pipeline-drafts/{name}", { params: { path: { name } }, signal }));
}

/** `revision`: the one the editor opened (null: a new draft, refused when the name is taken). */
export function saveDraft(name: string, definition: string, layout: Layout, revision: number | null): Promise<Draft> {
  return answerOf(
    api.PUT("/api/v1/pipeline-drafts/{name}", {
      params: { path: { name } },
      body: revision === null ? { definition, layout } : { definition, layout, revision },
    }),
  );
}

export function deleteDraft(name: string): Promise<unknown> {
  return answerOf(api.DELETE("/api/v1/pipeline-drafts/{name}", { params: { path: { name } } }));
}

export function pipelineRunGraph(runId: string, signal?: AbortSignal): Promise<PipelineRunGraph> {
  return answerOf(api.GET("/api/v1/runs/{run_id}/pipeline", { params: { path: { run_id: runId } }, signal }));
}
