// How a run's metrics become charts: a metric logged once is a number in the summary, not a
// one-dot chart; a train/validation pair (train_loss and validation_loss, loss and val_loss,
// train/loss and val/loss) shares one chart. The charts a reader looks at first (the loss and
// accuracy families, the learning rate) come first; the rest wait behind "More charts" unless
// there are only a few charts, or none of those.
import type { JsonFloat, MetricSeries } from "../api/types";
import { smooth } from "./smoothing";
import type { ChartView, XAxisMode } from "./chartView";

export interface ChartGroup {
  title: string; // what the metrics measure: "loss" for train_loss and validation_loss
  metrics: string[];
}

export interface MetricSummary {
  name: string;
  value: JsonFloat | null;
}

export interface ChartPlan {
  charts: ChartGroup[]; // shown at once
  more: ChartGroup[]; // behind "More charts (N)"
  summary: MetricSummary[];
}

/** This many charts or fewer are all shown, important or not. */
export const SHOWN_AT_LEAST = 4;

const SPLITS = ["train", "training", "validation", "valid", "val", "test", "eval"];
const SPLIT_PREFIXES = SPLITS.flatMap((split) => [`${split}_`, `${split}/`]);
const SPLIT_SUFFIXES = SPLITS.flatMap((split) => [`_${split}`, `/${split}`]);
// Loss first, then accuracy, then the learning rate; the rest by name. Matched against what a
// metric measures.
const IMPORTANT = [
  /loss/i,
  /accuracy|(^|[^a-z])acc([^a-z]|$)/i,
  /learning_?rate|(^|[^a-z])lr([^a-z]|$)/i,
];

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

/** 0 for the loss family, 1 for accuracy, 2 for the learning rate, 3 for the rest. */
export function importanceOf(measure: string): number {
  const rank = IMPORTANT.findIndex((pattern) => pattern.test(measure));
  return rank === -1 ? IMPORTANT.length : rank;
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
  const ranked = [...groups.entries()]
    .map(([measure, metrics]) => ({
      group: { title: metrics.length === 1 ? (metrics[0] ?? measure) : measure, metrics },
      rank: importanceOf(measure),
    }))
    .sort((a, b) => a.rank - b.rank || a.group.title.localeCompare(b.group.title));
  const important = ranked.filter((chart) => chart.rank < IMPORTANT.length).length;
  const few = ranked.length <= SHOWN_AT_LEAST;
  const shown = few || important === 0 ? SHOWN_AT_LEAST : important;
  const groupsOf = (charts: typeof ranked) => charts.map((chart) => chart.group);
  return {
    charts: groupsOf(ranked.slice(0, shown)),
    more: groupsOf(ranked.slice(shown)),
    summary,
  };
}

/** uPlot's data: one x array (the x of every series, merged) and one y array per series,
 * null where a series has no point at that x. */
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

/** A metric's points by step, and when each was logged (Unix seconds), as the server sends. */
export interface ChartLine {
  name: string;
  points: [number, number][];
  times?: number[];
}

/** A line as drawn: a smoothed line and its raw points kept faint behind it. */
export interface PlottedLine {
  label: string;
  line: number; // which ChartLine, for its colour
  faint: boolean;
}

export interface Plot {
  lines: PlottedLine[];
  data: AlignedData;
}

/** The x of each point: its step, its time, or its time after `startS`. A time axis leaves
 * out points without a time (from a server that sends none). */
export function xOf(line: ChartLine, mode: XAxisMode, startS: number): (number | null)[] {
  if (mode === "step") return line.points.map(([step]) => step);
  const times = line.times ?? [];
  return line.points.map((_, index) => {
    const time = times[index];
    if (time === undefined) return null;
    return mode === "wall" ? time : time - startS;
  });
}

/** The earliest time any line logged a point: a relative axis's zero without a better one. */
export function earliestTime(lines: readonly ChartLine[]): number | undefined {
  let earliest: number | undefined;
  for (const line of lines) {
    for (const time of line.times ?? []) if (earliest === undefined || time < earliest) earliest = time;
  }
  return earliest;
}

export function plotLines(lines: readonly ChartLine[], view: ChartView, startS: number): Plot {
  const plotted: PlottedLine[] = [];
  const columns: [number, number][][] = [];
  lines.forEach((line, index) => {
    const xs = xOf(line, view.x, startS);
    const values = line.points.map(([, value]) => value);
    const pairs = (ys: number[]) =>
      ys.flatMap((y, at): [number, number][] => {
        const x = xs[at];
        return x === null || x === undefined ? [] : [[x, y]];
      });
    if (view.smoothing > 0) {
      plotted.push({ label: `${line.name} (raw)`, line: index, faint: true });
      columns.push(pairs(values));
    }
    plotted.push({ label: line.name, line: index, faint: false });
    columns.push(pairs(smooth(values, view.smoothing)));
  });
  return { lines: plotted, data: alignSeries(columns) };
}
