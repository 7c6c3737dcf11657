// How a run's metrics become charts: a metric logged once is a number in the summary, not a
// one-dot chart; a train/validation pair (train_loss and validation_loss, or loss and val_loss)
// shares one chart; the rest get one chart each, in the order the names sort.
import type { JsonFloat, MetricSeries } from "../api/types";

export interface ChartGroup {
  title: string; // what the metrics measure: "loss" for train_loss and validation_loss
  metrics: string[];
}

export interface MetricSummary {
  name: string;
  value: JsonFloat | null;
}

export interface ChartPlan {
  charts: ChartGroup[];
  summary: MetricSummary[];
}

const SPLIT_PREFIXES = ["train_", "training_", "validation_", "valid_", "val_", "test_", "eval_"];
const SPLIT_SUFFIXES = ["_train", "_training", "_validation", "_valid", "_val", "_test", "_eval"];

/** What a metric measures, without the data split it was measured on. */
export function measureOf(name: string): string {
  const lower = name.toLowerCase();
  for (const prefix of SPLIT_PREFIXES) {
    if (lower.startsWith(prefix) && name.length > prefix.length) return name.slice(prefix.length);
  }
  for (const suffix of SPLIT_SUFFIXES) {
    if (lower.endsWith(suffix) && name.length > suffix.length) return name.slice(0, -suffix.length);
  }
  return name;
}

export function planCharts(series: Record<string, MetricSeries>): ChartPlan {
  const names = Object.keys(series).sort();
  const summary: MetricSummary[] = [];
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const metric = series[name];
    if (metric === undefined) continue;
    if (metric.count <= 1) {
      summary.push({ name, value: metric.last });
      continue;
    }
    const measure = measureOf(name);
    groups.set(measure, [...(groups.get(measure) ?? []), name]);
  }
  const charts = [...groups.entries()].map(([measure, metrics]) => ({
    title: metrics.length === 1 ? (metrics[0] ?? measure) : measure,
    metrics,
  }));
  return { charts, summary };
}

/** uPlot's data: one x array (the steps of every series, merged) and one y array per series,
 * null where a series has no point at that step. */
export type AlignedData = [number[], ...(number | null)[][]];

export function alignSeries(series: [number, number][][]): AlignedData {
  const steps = [...new Set(series.flatMap((points) => points.map(([step]) => step)))].sort(
    (a, b) => a - b,
  );
  const position = new Map(steps.map((step, index) => [step, index]));
  const columns = series.map((points) => {
    const column: (number | null)[] = new Array<number | null>(steps.length).fill(null);
    for (const [step, value] of points) {
      const at = position.get(step);
      if (at !== undefined) column[at] = value;
    }
    return column;
  });
  return [steps, ...columns];
}

/** A log scale shows only positive values. */
export function allPositive(series: [number, number][][]): boolean {
  return series.every((points) => points.every(([, value]) => value > 0));
}
