// A run's lifecycle over the generated client: its earlier attempts (for the status timeline)
// and cancelling it. Apart from endpoints.ts so that the run page's pieces grow apart.
import { answerOf, api } from "./client";
import type { components } from "./schema";
import type { Run } from "./types";

export type RunAttempt = components["schemas"]["RunAttempt"];

export function runAttempts(runId: string, signal?: AbortSignal): Promise<RunAttempt[]> {
  return answerOf(
    api.GET("/api/v1/runs/{run_id}/attempts", { params: { path: { run_id: runId } }, signal }),
  );
}

export function cancelRun(runId: string): Promise<Run> {
  return answerOf(api.POST("/api/v1/runs/{run_id}/cancel", { params: { path: { run_id: runId } } }));
}
