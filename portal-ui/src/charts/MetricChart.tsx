// One chart of a run's metrics, drawn by uPlot (canvas, fast on long series): drag across it to
// zoom into steps, double-click or "Reset zoom" to see them all, hover for the values in the
// legend, and a log scale when every value is positive. New points from a live run are drawn
// without losing the reader's zoom.
import { useEffect, useId, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { alignSeries, allPositive } from "./chartSeries";

export interface ChartLine {
  name: string;
  points: [number, number][];
}

interface Props {
  title: string;
  lines: ChartLine[];
  height?: number;
}

const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#be185d"];
const MIN_WIDTH = 240;
// uPlot.Scale.Distr.Logarithmic, a const enum that an isolated module cannot name.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
const LOG_DISTRIBUTION = 3 as uPlot.Scale.Distr;

export function MetricChart({ title, lines, height = 220 }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoomed = useRef(false);
  const [logScale, setLogScale] = useState(false);
  const toggleId = useId();
  const data = useMemo(() => alignSeries(lines.map((line) => line.points)), [lines]);
  const latestData = useRef(data);
  const canLog = useMemo(() => allPositive(lines.map((line) => line.points)), [lines]);
  const log = logScale && canLog;
  const names = lines.map((line) => line.name).join("\n");
  const pointCount = lines.reduce((sum, line) => sum + line.points.length, 0);

  // Declared before the chart's creation: on the first render the chart is made with this data.
  useEffect(() => {
    latestData.current = data;
    plot.current?.setData(data, !zoomed.current);
  }, [data]);

  useEffect(() => {
    const target = box.current;
    if (target === null) return;
    const options = chartOptions(names.split("\n"), log, widthOf(target), height, zoomed);
    const made = new uPlot(options, latestData.current, target);
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
    return () => {
      observer?.disconnect();
      made.over.removeEventListener("dblclick", resetOnDoubleClick);
      made.destroy();
      plot.current = null;
    };
  }, [names, log, height]);

  const resetZoom = () => {
    zoomed.current = false;
    plot.current?.setData(latestData.current, true);
  };

  return (
    <figure className="chart" data-chart={title} data-points={pointCount}>
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
  names: string[],
  log: boolean,
  width: number,
  height: number,
  zoomed: { current: boolean },
): uPlot.Options {
  return {
    width,
    height,
    scales: { x: { time: false }, y: log ? { distr: LOG_DISTRIBUTION } : {} },
    axes: [{ label: "step" }, {}],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    series: [
      { label: "step" },
      ...names.map((name, index) => ({
        label: name,
        stroke: PALETTE[index % PALETTE.length] ?? "#2563eb",
        width: 1.5,
        spanGaps: true,
      })),
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
