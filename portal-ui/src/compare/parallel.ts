// Parallel coordinates' data: one axis per param the compared runs set (numeric when every value
// reads as a finite number, else categorical, its categories in order), the chosen metric's axis
// last, and one line per run through its place on each axis (0 at the bottom, 1 at the top),
// coloured by its value of the metric.
import type { JsonFloat } from "../api/types";

export interface NumericAxis {
  kind: "numeric";
  name: string;
  min: number;
  max: number;
}

export interface CategoricalAxis {
  kind: "categorical";
  name: string;
  categories: string[];
}

export type Axis = NumericAxis | CategoricalAxis;

export interface ParallelRun {
  id: string;
  label: string;
  params: Record<string, string>;
  metrics: Record<string, JsonFloat>;
}

export interface ParallelLine {
  id: string;
  label: string;
  positions: (number | null)[]; // per axis, null where the run has no value
  metric: number | null;
  color: string; // by `metric`; grey without one
}

export interface ParallelData {
  axes: Axis[];
  lines: ParallelLine[];
}

const NO_VALUE_COLOR = "#9ca3af";
// A perceptually ordered ramp (plasma's dark part: no pale end that vanishes on white), low
// metric to high.
type Rgb = readonly [number, number, number];
const RAMP_LOW: Rgb = [13, 8, 135];
const RAMP: readonly Rgb[] = [RAMP_LOW, [156, 23, 158], [237, 121, 83]];

export function finiteNumber(text: string | number | undefined): number | null {
  if (text === undefined || text === "") return null;
  const value = typeof text === "number" ? text : Number(text);
  return Number.isFinite(value) ? value : null;
}

export function axisOf(name: string, values: (string | undefined)[]): Axis {
  const present = values.filter((value): value is string => value !== undefined);
  const numbers = present.map(finiteNumber);
  if (present.length > 0 && numbers.every((value) => value !== null)) {
    return { kind: "numeric", name, min: Math.min(...numbers), max: Math.max(...numbers) };
  }
  const categories = [...new Set(present)].sort((a, b) => a.localeCompare(b));
  return { kind: "categorical", name, categories };
}

/** Where `value` sits on `axis`, 0 (bottom) to 1 (top); a lone value sits in the middle. */
export function positionOn(axis: Axis, value: string | number | undefined): number | null {
  if (value === undefined) return null;
  if (axis.kind === "categorical") {
    const index = axis.categories.indexOf(String(value));
    if (index < 0) return null;
    return axis.categories.length === 1 ? 0.5 : index / (axis.categories.length - 1);
  }
  const number = finiteNumber(value);
  if (number === null) return null;
  return axis.max === axis.min ? 0.5 : (number - axis.min) / (axis.max - axis.min);
}

export function rampColor(share: number): string {
  const scaled = Math.min(1, Math.max(0, share)) * (RAMP.length - 1);
  const low = Math.min(Math.floor(scaled), RAMP.length - 2);
  const t = scaled - low;
  const from = RAMP[low] ?? RAMP_LOW;
  const to = RAMP[low + 1] ?? RAMP_LOW;
  const channel = (index: 0 | 1 | 2) => Math.round(from[index] + (to[index] - from[index]) * t);
  return `rgb(${String(channel(0))}, ${String(channel(1))}, ${String(channel(2))})`;
}

/** The params any run set, then `metric`: the axes, and each run's line across them. */
export function parallelData(runs: ParallelRun[], metric: string): ParallelData {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.params)))].sort((a, b) =>
    a.localeCompare(b),
  );
  const paramAxes = names.map((name) => axisOf(name, runs.map((run) => run.params[name])));
  const metricValues = runs.map((run) => finiteNumber(run.metrics[metric]));
  const present = metricValues.filter((value): value is number => value !== null);
  const metricAxis: NumericAxis = {
    kind: "numeric",
    name: metric,
    min: present.length ? Math.min(...present) : 0,
    max: present.length ? Math.max(...present) : 1,
  };
  const lines = runs.map((run, index) => {
    const value = metricValues[index] ?? null;
    const share = value === null ? null : positionOn(metricAxis, value);
    return {
      id: run.id,
      label: run.label,
      positions: [
        ...paramAxes.map((axis) => positionOn(axis, run.params[axis.name])),
        share,
      ],
      metric: value,
      color: share === null ? NO_VALUE_COLOR : rampColor(share),
    };
  });
  return { axes: [...paramAxes, metricAxis], lines };
}
