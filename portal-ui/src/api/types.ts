// What the routes the app reads answer, as their Python `to_dict` writes it. Once every route
// declares a response model (issue 13), these become aliases of `components["schemas"]` in the
// generated schema.d.ts.
import type { components } from "./schema";

export type RunStatus = components["schemas"]["RunStatus"];

/** A float as strict JSON carries it: NaN and the infinities travel as strings. */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export interface Experiment {
  id: string;
  name: string;
  created_at: string;
  run_count: number;
}

export interface RunSource {
  script: string | null;
  arguments: string[];
  git_commit: string | null;
  git_dirty: boolean | null;
  git_repository: string | null;
}

export interface Run {
  id: string;
  experiment: string;
  experiment_id: string;
  number: number;
  display_name: string | null;
  status: RunStatus;
  parent_id: string | null;
  compute_target: string | null;
  user: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  heartbeat_at: string | null;
  error: string | null;
  source: RunSource;
  handle: string | null;
  attempt: number;
  queued_at: string | null;
  status_detail: string | null;
}

export interface RunRow extends Run {
  metrics: Record<string, JsonFloat>;
}

export interface RunPage {
  total: number;
  metric_columns: string[];
  runs: RunRow[];
  offset: number;
  limit: number;
}

export interface RunDetails extends Run {
  duration_s: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  properties: Record<string, string>;
  metrics: Record<string, JsonFloat>;
}

export interface MetricSeries {
  points: [number, number][];
  count: number;
  non_finite: number;
  downsampled: boolean;
  last: JsonFloat | null;
}

export interface MetricSeriesRead {
  version: string;
  changed: boolean;
  series: Record<string, MetricSeries>;
}

export interface Compute {
  name: string;
  type: string;
  size: string | null;
  priority: string;
  min_nodes: number;
  max_nodes: number | null;
  idle_seconds_before_scaledown: number;
  state: string;
  created_at: string;
  address: string | null;
  description: string | null;
  errors: string[];
  built_in: boolean;
}

export interface ComputeDetails extends Compute {
  nodes_in_use: number;
  running: Run[];
  queue: Run[];
}

export interface ComputeSize {
  name: string;
  vcpus: number;
  memory_gib: number;
  temp_storage_gib: number;
  gpus: number;
  gpu_memory_gib: number;
  max_data_disks: number;
  max_nics: number;
}
