// The reads the pages make, one function each, over the generated client.
import { answerOf, api } from "./client";
import type {
  Compute,
  ComputeDetails,
  ComputeSize,
  Experiment,
  MetricSeriesRead,
  RunDetails,
  RunPage,
  RunStatus,
} from "./types";

export interface RunsQuery {
  experiment: string | null;
  statuses: RunStatus[];
  tags: string[]; // KEY=VALUE
  metrics: string[]; // accuracy>0.9
  sort: string; // created, status, number, display_name or metric:NAME
  descending: boolean;
  offset: number;
  limit: number;
  parent?: string; // only the child runs of this run
}

export function listExperiments(signal?: AbortSignal): Promise<Experiment[]> {
  return answerOf(api.GET("/api/v1/experiments", { signal }));
}

export function queryRuns(query: RunsQuery, signal?: AbortSignal): Promise<RunPage> {
  return answerOf(
    api.GET("/api/v1/runs-query", {
      params: {
        query: {
          ...(query.experiment ? { experiment: query.experiment } : {}),
          status: query.statuses,
          tag: query.tags,
          metric: query.metrics,
          sort: query.sort,
          order: query.descending ? "desc" : "asc",
          offset: query.offset,
          limit: query.limit,
          ...(query.parent ? { parent: query.parent } : {}),
        },
      },
      signal,
    }),
  );
}

export function runDetails(runId: string, signal?: AbortSignal): Promise<RunDetails> {
  return answerOf(
    api.GET("/api/v1/runs/{run_id}/details", { params: { path: { run_id: runId } }, signal }),
  );
}

export function metricSeries(
  runId: string,
  version: string | null,
  signal?: AbortSignal,
): Promise<MetricSeriesRead> {
  return answerOf(
    api.GET("/api/v1/runs/{run_id}/metric-series", {
      params: { path: { run_id: runId }, query: version === null ? {} : { version } },
      signal,
    }),
  );
}

export function listComputes(signal?: AbortSignal): Promise<Compute[]> {
  return answerOf(api.GET("/api/v1/computes", { signal }));
}

export function computeDetails(name: string, signal?: AbortSignal): Promise<ComputeDetails> {
  return answerOf(api.GET("/api/v1/computes/{name}", { params: { path: { name } }, signal }));
}

export function listComputeSizes(signal?: AbortSignal): Promise<ComputeSize[]> {
  return answerOf(api.GET("/api/v1/compute-sizes", { signal }));
}
