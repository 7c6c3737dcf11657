// A parent run's leaderboard: a sweep's trials (the `leaderboard.json` its driver writes on the
// parent, services/sweeps/leaderboard.py), an AutoML-for-tables run's candidate families
// (its child runs, each with `best_<metric>`, plus the voting ensemble from its final
// `outputs/leaderboard.json`, tabular/train.py) or an AutoML-for-images run's candidates
// (its child runs: backbone × learning rate × epochs, vision/automl.py). Either becomes one `Board`: rows, the primary
// metric and its goal, sorted best first by default. Files come from jobs: checked at run time.
import type { JsonFloat, RunDetails, RunRow } from "../api/types";
import { finiteNumber } from "../compare/parallel";
import { type Checked, isRecord } from "./guardrails";

export const SWEEP_LEADERBOARD_PATH = "leaderboard.json";
export const AUTOML_LEADERBOARD_PATH = "outputs/leaderboard.json";
export const AUTOML_TITLE = "AutoML for tables (built-in)"; // services/automl.py, AUTOML_TITLE
export const FAMILY_TAG = "automl_family"; // tabular/train.py, FAMILY_TAG
export const IMAGE_AUTOML_TITLE = "AutoML for images (built-in)"; // services/automl.py
export const CANDIDATE_TAG = "automl_candidate"; // vision/automl.py, CANDIDATE_TAG
// What each image candidate's training logs as its result (vision/automl.py, TRIAL_METRIC).
export const IMAGE_TRIAL_METRIC = "best_validation_accuracy";
const SWEEP_METRIC_PROPERTY = "sweep.primary_metric";
// AutoML's metrics where lower is better (tabular/config.py, PRIMARY_METRICS): its runs record
// no goal of their own.
const LOWER_IS_BETTER = /(error|loss)$/;

export type Goal = "maximize" | "minimize";
export type ParentKind = "sweep" | "automl" | "automl-images";

export interface BoardRow {
  key: string;
  runId: string | null; // the child run; null for a row with none (the voting ensemble)
  number: number | null; // the sweep's trial number
  label: string;
  status: string;
  value: number | null; // the primary metric's final (sweep) or best (AutoML family) value
  ranked: boolean; // completed with a value: in the ranking (a canceled trial's value is not)
  reason: string | null; // why it ended other than completed
  params: Record<string, string>;
}

export interface Board {
  kind: ParentKind;
  metric: string;
  goal: Goal;
  totalTrials: number | null;
  paramNames: string[];
  rows: BoardRow[];
}

/** What kind of parent the run is, by what it records; null for any other run. */
export function parentKind(run: {
  properties: Record<string, string>;
  source: { script: string | null };
}): ParentKind | null {
  if (run.properties[SWEEP_METRIC_PROPERTY]) return "sweep";
  if (run.source.script === AUTOML_TITLE) return "automl";
  if (run.source.script === IMAGE_AUTOML_TITLE) return "automl-images";
  return null;
}

export function goalOf(text: string | undefined, metric: string): Goal {
  if (text === "maximize" || text === "minimize") return text;
  return LOWER_IS_BETTER.test(metric) ? "minimize" : "maximize";
}

/** The sweep driver's `leaderboard.json` (`Leaderboard.to_dict`). */
export function parseSweepLeaderboard(data: unknown): Checked<Board> {
  if (!isRecord(data)) return bad("it is not a JSON object");
  if (typeof data.primary_metric !== "string") return bad('its "primary_metric" is not a name');
  if (!Array.isArray(data.trials)) return bad('its "trials" is not a list');
  const rows = data.trials.filter(isRecord).map(sweepRow);
  return {
    ok: true,
    value: {
      kind: "sweep",
      metric: data.primary_metric,
      goal: goalOf(textOr(data.goal, ""), data.primary_metric),
      totalTrials: typeof data.total_trials === "number" ? data.total_trials : null,
      paramNames: paramNamesOf(rows),
      rows,
    },
  };
}

function sweepRow(trial: Record<string, unknown>, index: number): BoardRow {
  const runId = typeof trial.run_id === "string" ? trial.run_id : null;
  const number = typeof trial.trial === "number" ? trial.trial : null;
  const value = finiteNumber(trial.value as JsonFloat | undefined);
  const params = isRecord(trial.params)
    ? Object.fromEntries(Object.entries(trial.params).map(([name, value]) => [name, String(value)]))
    : {};
  return {
    key: runId ?? `trial-${String(index)}`,
    runId,
    number,
    label: textOr(trial.display_name, number === null ? "" : `trial ${String(number)}`),
    status: textOr(trial.status, ""),
    value,
    ranked: typeof trial.ranked === "boolean" ? trial.ranked : trial.status === "Completed" && value !== null,
    reason: typeof trial.reason === "string" && trial.reason ? trial.reason : null,
    params,
  };
}

/** An AutoML run's families from its child runs, and the rows of its final leaderboard that
 * have no child run (the voting ensemble). */
export function automlBoard(parent: Pick<RunDetails, "params">, children: RunRow[], final: unknown): Board {
  const metric = automlMetric(parent);
  const rows = children.map((child) => familyRow(child, metric));
  const families = new Set(rows.map((row) => row.params.family));
  for (const entry of finalModels(final)) {
    const family = textOr(entry.family, "");
    if (!family || families.has(family)) continue;
    const value = finiteNumber(entry[metric] as JsonFloat | undefined);
    rows.push({
      key: `final-${family}`,
      runId: null,
      number: null,
      label: family,
      status: "Completed",
      value,
      ranked: value !== null,
      reason: null,
      params: { family, trials: typeof entry.trials === "number" ? String(entry.trials) : "" },
    });
  }
  return {
    kind: "automl",
    metric,
    goal: goalOf(parent.params.goal, metric),
    totalTrials: null,
    paramNames: ["family", "trials"],
    rows,
  };
}

export function automlMetric(parent: Pick<RunDetails, "params">): string {
  return parent.params.primary_metric ?? "";
}

function familyRow(child: RunRow, metric: string): BoardRow {
  const family = child.tags[FAMILY_TAG] ?? child.display_name;
  const trials = finiteNumber(child.metrics.trials);
  const value = finiteNumber(child.metrics[`best_${metric}`]);
  return {
    key: child.id,
    runId: child.id,
    number: null,
    label: family,
    status: child.status,
    value,
    ranked: child.status === "Completed" && value !== null,
    reason: child.status === "Completed" ? null : child.error,
    params: { family, trials: trials === null ? "" : String(trials) },
  };
}

/** An AutoML-for-images run's candidates, from its child runs (a fine-tuned finalist is a
 * candidate of its own). */
export function imageAutomlBoard(parent: Pick<RunDetails, "params">, children: RunRow[]): Board {
  const rows = children.filter((child) => CANDIDATE_TAG in child.tags).map(candidateRow);
  return {
    kind: "automl-images",
    metric: automlMetric(parent) || "accuracy",
    goal: "maximize",
    totalTrials: null,
    paramNames: ["backbone", "learning_rate", "epochs", "fine_tune"],
    rows,
  };
}

function candidateRow(child: RunRow): BoardRow {
  const value = finiteNumber(child.metrics[IMAGE_TRIAL_METRIC]);
  return {
    key: child.id,
    runId: child.id,
    number: null,
    label: child.tags[CANDIDATE_TAG] ?? child.display_name,
    status: child.status,
    value,
    ranked: child.status === "Completed" && value !== null,
    reason: child.status === "Completed" ? null : child.error,
    params: {
      backbone: child.tags.backbone ?? "",
      learning_rate: child.params.learning_rate ?? "",
      epochs: child.params.epochs ?? "",
      fine_tune: child.params.fine_tune ?? "",
    },
  };
}

function finalModels(final: unknown): Record<string, unknown>[] {
  if (!isRecord(final) || !Array.isArray(final.models)) return [];
  return final.models.filter(isRecord);
}

// Sorting ---------------------------------------------------------------------------------------

export const VALUE_COLUMN = "value";
export const PARAM_PREFIX = "param:";

export interface BoardSort {
  column: string; // value, number, label, status or param:NAME
  descending: boolean;
}

/** Best first: the goal's direction on the primary metric. */
export function bestFirst(goal: Goal): BoardSort {
  return { column: VALUE_COLUMN, descending: goal === "maximize" };
}

/** A click on a column's header: the current column flips, another starts best first (the
 * metric) or ascending. */
export function nextSort(current: BoardSort, column: string, goal: Goal): BoardSort {
  if (column === current.column) return { column, descending: !current.descending };
  return column === VALUE_COLUMN ? bestFirst(goal) : { column, descending: false };
}

/** The rows in the order asked; a row without a value in the column comes last either way,
 * and by the metric the ranked rows come before the others (a canceled trial's value is no
 * result), ties in trial (then label) order. */
export function sortRows(rows: BoardRow[], sort: BoardSort): BoardRow[] {
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    if (sort.column === VALUE_COLUMN && a.ranked !== b.ranked) return a.ranked ? -1 : 1;
    const left = cellOf(a, sort.column);
    const right = cellOf(b, sort.column);
    if (left === null || right === null) {
      if (left !== right) return left === null ? 1 : -1;
    } else {
      const order = compareCells(left, right);
      if (order !== 0) return sign * order;
    }
    return (a.number ?? 0) - (b.number ?? 0) || a.label.localeCompare(b.label);
  });
}

function cellOf(row: BoardRow, column: string): number | string | null {
  if (column === VALUE_COLUMN) return row.value;
  if (column === "number") return row.number;
  if (column === "label") return row.label;
  if (column === "status") return row.status;
  const text = row.params[column.slice(PARAM_PREFIX.length)];
  if (text === undefined || text === "") return null;
  return finiteNumber(text) ?? text;
}

function compareCells(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function paramNamesOf(rows: BoardRow[]): string[] {
  return [...new Set(rows.flatMap((row) => Object.keys(row.params)))].sort((a, b) => a.localeCompare(b));
}

function textOr(value: unknown, otherwise: string): string {
  return typeof value === "string" ? value : otherwise;
}

function bad<T>(reason: string): Checked<T> {
  return { ok: false, reason };
}
