// Which columns a runs table can show and which it shows by default. A page's runs bring their
// latest metrics (the server picks up to eight), params and tags; showing them all would make a
// wide, mostly empty table, so by default a few metrics show and params and tags wait in the
// column chooser. The reader's choice lives in the URL (`runQuery.ts`).
import type { RunRow } from "../api/types";
import { METRIC_SORT_PREFIX, PARAM_PREFIX, TAG_PREFIX } from "./runQuery";

export type ColumnGroup = "run" | "metric" | "param" | "tag";

export interface ColumnChoice {
  id: string;
  label: string;
  group: ColumnGroup;
}

/** The run's own columns in table order; the experiment only where runs of several show. */
export const RUN_COLUMNS: readonly ColumnChoice[] = [
  { id: "display_name", label: "Run", group: "run" },
  { id: "number", label: "#", group: "run" },
  { id: "experiment", label: "Experiment", group: "run" },
  { id: "status", label: "Status", group: "run" },
  { id: "created", label: "Created", group: "run" },
  { id: "duration", label: "Duration", group: "run" },
  { id: "user", label: "User", group: "run" },
  { id: "compute", label: "Compute", group: "run" },
  { id: "error", label: "Failure reason", group: "run" },
];

const DEFAULT_RUN_COLUMNS = ["display_name", "status", "created", "duration", "user", "compute"];
export const DEFAULT_METRIC_COLUMNS = 4;

export interface PageColumns {
  metrics: string[];
  params: string[];
  tags: string[];
}

/** The metric, param and tag names a page's table can show: the server's metric columns, the
 * keys any of its runs has, and those the reader chose (so a shared view keeps its columns on a
 * page whose runs lack them). */
export function pageColumns(
  metricColumns: string[],
  runs: RunRow[],
  chosen: string[] | null,
): PageColumns {
  const named = (prefix: string) =>
    (chosen ?? []).filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
  const keys = (pick: (run: RunRow) => Record<string, string>, prefix: string) => {
    const found = new Set(named(prefix));
    runs.forEach((run) => {
      Object.keys(pick(run)).forEach((key) => found.add(key));
    });
    return [...found].sort((a, b) => a.localeCompare(b));
  };
  const metrics = [...metricColumns];
  named(METRIC_SORT_PREFIX).forEach((name) => {
    if (!metrics.includes(name)) metrics.push(name);
  });
  return {
    metrics,
    params: keys((run) => run.params, PARAM_PREFIX),
    tags: keys((run) => run.tags, TAG_PREFIX),
  };
}

/** Every column the chooser offers, in table order. */
export function choosableColumns(page: PageColumns, showExperiment: boolean): ColumnChoice[] {
  const runColumns = RUN_COLUMNS.filter((column) => showExperiment || column.id !== "experiment");
  const error = runColumns.filter((column) => column.id === "error");
  return [
    ...runColumns.filter((column) => column.id !== "error"),
    ...page.metrics.map((name) => ({
      id: `${METRIC_SORT_PREFIX}${name}`,
      label: name,
      group: "metric" as const,
    })),
    ...page.params.map((key) => ({ id: `${PARAM_PREFIX}${key}`, label: key, group: "param" as const })),
    ...page.tags.map((key) => ({ id: `${TAG_PREFIX}${key}`, label: key, group: "tag" as const })),
    ...error,
  ];
}

/** The columns shown before the reader chooses: the run's main ones, the first few metrics
 * (those the query sorts or filters by come first from the server) and, where runs failed
 * on the page, why. */
export function defaultColumns(page: PageColumns, runs: RunRow[]): string[] {
  const anyFailed = runs.some((run) => run.error);
  return [
    ...DEFAULT_RUN_COLUMNS,
    ...page.metrics.slice(0, DEFAULT_METRIC_COLUMNS).map((name) => `${METRIC_SORT_PREFIX}${name}`),
    ...(anyFailed ? ["error"] : []),
  ];
}
