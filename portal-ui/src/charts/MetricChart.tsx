// One chart of a run's metrics, drawn by uPlot (canvas, fast on long series): drag across it to
// zoom, double-click or "Reset zoom" to see it all, hover for the values in the legend, and a
// log scale when every value is positive. The page's view (smoothing, x axis: chartView.ts)
// applies to every chart; smoothed, the raw points stay behind as a faint line. New points
// from a live run, and a new smoothing weight, are drawn without losing the reader's zoom.
import { useEffect, useId, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import {
  allPositive,
  type ChartLine,
  earliestTime,
  plotLines,
  type PlottedLine,
} from "./chartSeries";
import { axisLabel, type ChartView, DEFAULT_VIEW, type XAxisMode } from "./chartView";

export type { ChartLine } from "./chartSeries";

interface Props {
  title: string;
  lines: ChartLine[];
  height?: number;
  view?: ChartView;
  /** Zero of the relative-time axis (Unix seconds): the run's start. Else the first point. */
  startS?: number;
}

const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d"];
const FAINT_ALPHA = "40"; // appended to a palette colour: 25 % opaque
const MIN_WIDTH = 240;
// uPlot.Scale.Distr.Logarithmic, a const enum that an isolated module cannot name.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const LOG_DISTRIBUTION = 3 as uPlot.Scale.Distr;

export function MetricChart({ title, lines, height = 220, view = DEFAULT_VIEW, startS }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoomed = useRef(false);
  // The zoomed x range and its axis, kept across a remake (log scale, smoothing on or off).
  const kept = useRef<{ x: XAxisMode; min: number; max: number } | null>(null);
  const [logScale, setLogScale] = useState(false);
  const toggleId = useId();
  const zero = startS ?? earliestTime(lines) ?? 0;
  const drawn = useMemo(() => plotLines(lines, view, zero), [lines, view, zero]);
  const latestData = useRef(drawn.data);
  const canLog = useMemo(() => allPositive(lines.map((line) => line.points)), [lines]);
  const log = logScale && canLog;
  // The chart is made again only when what it draws changes shape, not when points arrive.
  const shape = JSON.stringify(drawn.lines);
  const pointCount = lines.reduce((sum, line) => sum + line.points.length, 0);

  // Declared before the chart's creation: on the first render the chart is made with this data.
  useEffect(() => {
    latestData.current = drawn.data;
    plot.current?.setData(drawn.data, !zoomed.current);
  }, [drawn.data]);

  useEffect(() => {
    const target = box.current;
    if (target === null) return;
    const plotted = JSON.parse(shape) as PlottedLine[];
    const range = kept.current?.x === view.x ? kept.current : null;
    zoomed.current = range !== null; // another x axis: nothing to keep
    const options = chartOptions(plotted, view.x, log, widthOf(target), height, zoomed);
    const made = new uPlot(options, latestData.current, target);
    if (range !== null) made.setScale("x", { min: range.min, max: range.max });
    plot.current = made;
    const resetOnDoubleClick = () => {
      zoomed.current = false;
    };
    made.over.addEventListener("dblclick", resetOnDoubleClick);
    const observer =
      typeof ResizeObserver === "undefined"
        ? undefined
        : new ResizeObserver(() => {
            made.setSize({ width: widthOf(target), height });
          });
    observer?.observe(target);
    const mode = view.x;
    return () => {
      const { min, max } = made.scales.x ?? {};
      kept.current =
        zoomed.current && min !== undefined && max !== undefined ? { x: mode, min, max } : null;
      observer?.disconnect();
      made.over.removeEventListener("dblclick", resetOnDoubleClick);
      made.destroy();
      plot.current = null;
    };
  }, [shape, view.x, log, height]);

  const resetZoom = () => {
    zoomed.current = false;
    plot.current?.setData(latestData.current, true);
  };

  return (
    <figure
      className="chart"
      data-chart={title}
      data-points={pointCount}
      data-x-axis={view.x}
      data-smoothing={view.smoothing}
    >
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-tools">
          <input
            id={toggleId}
            type="checkbox"
            checked={log}
            disabled={!canLog}
            onChange={(event) => {
              setLogScale(event.target.checked);
            }}
          />
          <label
            htmlFor={toggleId}
            title={canLog ? undefined : "a log scale needs every value above zero"}
          >
            Log scale
          </label>
          <button type="button" className="link-button" onClick={resetZoom}>
            Reset zoom
          </button>
        </span>
      </figcaption>
      <div
        ref={box}
        className="chart-canvas"
        role="img"
        aria-label={describe(title, lines)}
      />
    </figure>
  );
}

function chartOptions(
  plotted: PlottedLine[],
  mode: XAxisMode,
  log: boolean,
  width: number,
  height: number,
  zoomed: { current: boolean },
): uPlot.Options {
  const relative = mode === "relative";
  return {
    width,
    height,
    scales: { x: { time: mode === "wall" }, y: log ? { distr: LOG_DISTRIBUTION } : {} },
    axes: [
      relative
        ? { label: axisLabel(mode), values: (_, splits) => splits.map(formatSeconds) }
        : { label: axisLabel(mode) },
      {},
    ],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    series: [
      relative
        ? { label: axisLabel(mode), value: (_, seconds) => formatSeconds(seconds) }
        : { label: axisLabel(mode) },
      ...plotted.map((line) => {
        const colour = PALETTE[line.line % PALETTE.length] ?? "#2563eb";
        return {
          label: line.label,
          stroke: line.faint ? colour + FAINT_ALPHA : colour,
          width: line.faint ? 1 : 1.5,
          spanGaps: true,
        };
      }),
    ],
    hooks: {
      setSelect: [
        (self: uPlot) => {
          if (self.select.width > 0) zoomed.current = true;
        },
      ],
    },
  };
}

/** Seconds since the start as an axis reads them: 45s, 2m 30s, 1h 05m. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "—";
  const sign = seconds < 0 ? "-" : "";
  const whole = Math.abs(seconds);
  if (whole < 60) return `${sign}${Number(whole.toFixed(1))}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${sign}${minutes}m ${String(Math.round(whole % 60)).padStart(2, "0")}s`;
  return `${sign}${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function widthOf(element: HTMLElement): number {
  return Math.max(MIN_WIDTH, Math.floor(element.clientWidth));
}

function describe(title: string, lines: ChartLine[]): string {
  const parts = lines.map((line) => {
    const last = line.points.at(-1);
    const ending = last === undefined ? "no points" : `last ${last[1].toPrecision(4)} at step ${last[0]}`;
    return `${line.name}: ${line.points.length} points, ${ending}`;
  });
  return `Chart of ${title}. ${parts.join("; ")}`;
}
