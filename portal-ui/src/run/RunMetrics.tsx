// A run's metrics: the one-value ones as a summary, the rest as charts under one toolbar
// (smoothing, x axis; kept in the URL). The loss and accuracy charts come first; the others
// wait behind "More charts (N)" and are drawn only once opened.
import { useMemo, useState } from "react";
import type { MetricSeries } from "../api/types";
import { ChartToolbar } from "../charts/ChartToolbar";
import { type ChartGroup, type ChartPlan, planCharts } from "../charts/chartSeries";
import { type ChartView, useChartView } from "../charts/chartView";
import { MetricChart } from "../charts/MetricChart";
import { formatMetric } from "../format";

interface Props {
  series: Record<string, MetricSeries>;
  /** Zero of the relative-time axis (Unix seconds). */
  startS: number | undefined;
}

export function RunMetrics({ series, startS }: Props) {
  const plan: ChartPlan = useMemo(() => planCharts(series), [series]);
  const [view, setView] = useChartView();
  const [moreOpen, setMoreOpen] = useState(false);
  if (plan.charts.length === 0 && plan.summary.length === 0) {
    return <p className="empty">No metrics logged yet.</p>;
  }
  const grid = (charts: ChartGroup[]) => (
    <ChartGrid charts={charts} series={series} view={view} startS={startS} />
  );
  return (
    <>
      {plan.summary.length > 0 && (
        <section className="panel" aria-label="Metrics">
          <h2>Metrics</h2>
          <dl className="facts" id="metric-summary">
            {plan.summary.map((metric) => (
              <div key={metric.name}>
                <dt>{metric.name}</dt>
                <dd>{formatMetric(metric.value)}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      {plan.charts.length > 0 && (
        <section aria-label="Charts">
          <h2>Charts</h2>
          <ChartToolbar view={view} onChange={setView} />
          {grid(plan.charts)}
          {plan.more.length > 0 && (
            <div className="more-charts">
              <button
                type="button"
                className="link-button"
                aria-expanded={moreOpen}
                onClick={() => {
                  setMoreOpen(!moreOpen);
                }}
              >
                {moreOpen ? "Fewer charts" : `More charts (${plan.more.length})`}
              </button>
              {moreOpen && grid(plan.more)}
            </div>
          )}
        </section>
      )}
    </>
  );
}

interface GridProps {
  charts: ChartGroup[];
  series: Record<string, MetricSeries>;
  view: ChartView;
  startS: number | undefined;
}

function ChartGrid({ charts, series, view, startS }: GridProps) {
  return (
    <div className="chart-grid">
      {charts.map((chart) => (
        <MetricChart
          key={chart.title}
          title={chart.title}
          view={view}
          startS={startS}
          lines={chart.metrics.map((name) => ({
            name,
            points: series[name]?.points ?? [],
            times: series[name]?.times ?? [],
          }))}
        />
      ))}
    </div>
  );
}

/** The zero of the relative-time axis: when the run first started, or its first point where
 * that came earlier (points of an earlier attempt, from before a requeue). */
export function runStartS(
  run: { started_at: string | null },
  series: Record<string, MetricSeries>,
): number | undefined {
  const started = run.started_at === null ? undefined : Date.parse(run.started_at) / 1000;
  let earliest = started;
  for (const metric of Object.values(series)) {
    const first = metric.times.length > 0 ? Math.min(...metric.times) : undefined;
    if (first !== undefined && (earliest === undefined || first < earliest)) earliest = first;
  }
  return earliest;
}
