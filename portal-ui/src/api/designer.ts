// The pipeline designer's routes (server/routes/pipeline_designer.py): its palette, the server's
// judgement of a definition, drafts, submitting one, and a pipeline run's graph with its steps.
import { answerOf, api } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type InputPortSpec = Schemas["StepTypeInput"];
export type OutputPortSpec = Schemas["StepTypeOutput"];
/** `component`: a registered component's reference, picked from the palette's components. */
export type FieldKind = "string" | "number" | "integer" | "boolean" | "mapping" | "list" | "component";
/** `kind` is one of `FieldKind` (the server's schema says so in words). */
export type FieldSpec = Omit<Schemas["StepTypeField"], "kind"> & { kind: FieldKind };
export type StepTypeSpec = Omit<Schemas["StepType"], "fields"> & { fields: FieldSpec[] };
export type PortTypeSpec = Schemas["PortTypeEntry"];
export type ComponentSpec = Schemas["PaletteComponent"];
export type Palette = Omit<Schemas["Palette"], "step_types"> & { step_types: StepTypeSpec[] };
/** What the server finds wrong with a definition, naming the step and field where it can. */
export type Problem = Schemas["Problem"];
export type Checked = Schemas["DefinitionCheck"];
export type Layout = Record<string, { x: number; y: number }>;
export type Draft = Omit<Schemas["Draft"], "layout"> & { layout: Layout | null };
export type DraftSummary = Schemas["DraftSummary"];
export type StepState = Schemas["PipelineStepState"];
export type PipelineRunGraph = Schemas["RunPipeline"];
export type SubmittedRun = Schemas["Run"];

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
