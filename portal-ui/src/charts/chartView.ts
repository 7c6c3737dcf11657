// How every chart of a page is drawn, chosen once in its toolbar and kept in the URL's query
// (?smooth=0.6&x=relative) so that a shared link shows the same view: the exponential moving
// average's weight (0 draws the points as logged) and what the x axis counts.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router";

export type XAxisMode = "step" | "wall" | "relative";

export interface ChartView {
  smoothing: number; // 0 ..= MAX_SMOOTHING
  x: XAxisMode;
}

export const MAX_SMOOTHING = 0.99;
export const DEFAULT_VIEW: ChartView = { smoothing: 0, x: "step" };

export const X_AXIS_MODES: { mode: XAxisMode; label: string; axis: string }[] = [
  { mode: "step", label: "Step", axis: "step" },
  { mode: "relative", label: "Relative time", axis: "time since start" },
  { mode: "wall", label: "Wall time", axis: "wall time" },
];

export function axisLabel(mode: XAxisMode): string {
  return X_AXIS_MODES.find((entry) => entry.mode === mode)?.axis ?? mode;
}

function isMode(value: string | null): value is XAxisMode {
  return X_AXIS_MODES.some((entry) => entry.mode === value);
}

/** A weight in 0 ..= 0.99 to two decimals; anything else in a hand-edited URL reads as 0. */
export function clampSmoothing(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.round(Math.min(value, MAX_SMOOTHING) * 100) / 100;
}

export function readChartView(params: URLSearchParams): ChartView {
  const x = params.get("x");
  return {
    smoothing: clampSmoothing(Number(params.get("smooth") ?? 0)),
    x: isMode(x) ? x : DEFAULT_VIEW.x,
  };
}

/** The query with the view written in; defaults are left out, other parameters kept. */
export function writeChartView(params: URLSearchParams, view: ChartView): URLSearchParams {
  const next = new URLSearchParams(params);
  const smoothing = clampSmoothing(view.smoothing);
  if (smoothing === DEFAULT_VIEW.smoothing) next.delete("smooth");
  else next.set("smooth", String(smoothing));
  if (view.x === DEFAULT_VIEW.x) next.delete("x");
  else next.set("x", view.x);
  return next;
}

/** The page's chart view and a setter that replaces the history entry (a dragged slider
 * would otherwise leave one entry per position behind the back button). */
export function useChartView(): [ChartView, (view: ChartView) => void] {
  const [params, setParams] = useSearchParams();
  const view = useMemo(() => readChartView(params), [params]);
  const setView = useCallback(
    (next: ChartView) => {
      setParams((current) => writeChartView(current, next), { replace: true });
    },
    [setParams],
  );
  return [view, setView];
}
