// Parallel coordinates of the compared runs' params against one metric, drawn as SVG by React
// (a handful of runs and axes: no chart library needed). Each run is a line across the axes,
// coloured by its value of the metric; hovering a line names the run. The metric is chosen in a
// plain <select>, so the keyboard reaches it as any form field.
import { useId } from "react";
import { formatMetric } from "../format";
import { type Axis, type ParallelData, parallelData, type ParallelRun, rampColor } from "./parallel";

interface Props {
  runs: ParallelRun[];
  metrics: string[];
  metric: string;
  onMetric: (metric: string) => void;
}

const AXIS_GAP = 150;
const PAD_X = 70;
const TOP = 40;
const PLOT_HEIGHT = 240;
const BOTTOM = 30;

export function ParallelCoordinates({ runs, metrics, metric, onMetric }: Props) {
  const chooserId = useId();
  const data = parallelData(runs, metric);
  return (
    <div className="parallel">
      <div className="parallel-tools">
        <label htmlFor={chooserId}>Colour by metric</label>
        <select
          id={chooserId}
          value={metric}
          onChange={(event) => {
            onMetric(event.target.value);
          }}
        >
          {metrics.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <RampLegend data={data} />
      </div>
      <div className="parallel-scroll" tabIndex={0} aria-label="Parallel coordinates, scrollable">
        <ParallelSvg data={data} metric={metric} />
      </div>
    </div>
  );
}

function ParallelSvg({ data, metric }: { data: ParallelData; metric: string }) {
  const width = PAD_X * 2 + Math.max(1, data.axes.length - 1) * AXIS_GAP;
  const height = TOP + PLOT_HEIGHT + BOTTOM;
  const xOf = (index: number) => PAD_X + index * AXIS_GAP;
  const yOf = (position: number) => TOP + (1 - position) * PLOT_HEIGHT;
  const params = data.axes.length - 1;
  return (
    <svg
      width={width}
      height={height}
      viewBox={`0 0 ${String(width)} ${String(height)}`}
      role="img"
      aria-label={`${String(data.lines.length)} runs across ${String(params)} params and ${metric}`}
      data-axes={data.axes.length}
    >
      {data.lines.map((line) => (
        <path
          key={line.id}
          className="parallel-line"
          d={pathOf(line.positions, xOf, yOf)}
          stroke={line.color}
          data-run-id={line.id}
        >
          <title>{`${line.label}: ${metric} ${formatMetric(line.metric)}`}</title>
        </path>
      ))}
      {data.axes.map((axis, index) => (
        <AxisMarks key={`${axis.kind}:${axis.name}`} axis={axis} x={xOf(index)} yOf={yOf} />
      ))}
    </svg>
  );
}

/** A line through each axis where the run has a value; a missing value breaks it. */
export function pathOf(
  positions: (number | null)[],
  xOf: (index: number) => number,
  yOf: (position: number) => number,
): string {
  let move = true;
  const parts: string[] = [];
  positions.forEach((position, index) => {
    if (position === null) {
      move = true;
      return;
    }
    parts.push(`${move ? "M" : "L"}${String(xOf(index))},${String(yOf(position))}`);
    move = false;
  });
  return parts.join(" ");
}

function AxisMarks({ axis, x, yOf }: { axis: Axis; x: number; yOf: (p: number) => number }) {
  const ticks =
    axis.kind === "numeric"
      ? [
          { at: 0, text: formatMetric(axis.min) },
          ...(axis.max === axis.min ? [] : [{ at: 1, text: formatMetric(axis.max) }]),
        ].map((tick) => (axis.max === axis.min ? { ...tick, at: 0.5 } : tick))
      : axis.categories.map((category, index) => ({
          at: axis.categories.length === 1 ? 0.5 : index / (axis.categories.length - 1),
          text: category,
        }));
  return (
    <g className="parallel-axis" data-axis={axis.name} data-kind={axis.kind}>
      <line x1={x} x2={x} y1={yOf(1)} y2={yOf(0)} />
      <text x={x} y={TOP - 16} textAnchor="middle" className="axis-name">
        {clip(axis.name, 22)}
        <title>{axis.name}</title>
      </text>
      {ticks.map((tick) => (
        <text key={`${String(tick.at)}:${tick.text}`} x={x + 6} y={yOf(tick.at) + 4} className="tick">
          {clip(tick.text, 16)}
        </text>
      ))}
    </g>
  );
}

function clip(text: string, most: number): string {
  return text.length > most ? `${text.slice(0, most - 1)}…` : text;
}

function RampLegend({ data }: { data: ParallelData }) {
  const axis = data.axes.at(-1);
  if (axis?.kind !== "numeric") return null;
  return (
    <span className="ramp-legend">
      <span>{formatMetric(axis.min)}</span>
      <span
        className="ramp"
        aria-hidden="true"
        style={{
          background: `linear-gradient(to right, ${rampColor(0)}, ${rampColor(0.5)}, ${rampColor(1)})`,
        }}
      />
      <span>{formatMetric(axis.max)}</span>
    </span>
  );
}
