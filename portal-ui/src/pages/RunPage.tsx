// A run: its status and where it stands, what it was given (params, tags), its one-value
// metrics in a summary and the others as live charts. While the run has not ended, the page
// reads its details every few seconds and its series every 1.5 s (cheaply: see useMetricSeries).
import { useEffect, useMemo } from "react";
import { Link, useParams } from "react-router";
import { metricSeries, runDetails } from "../api/endpoints";
import type { MetricSeries, RunDetails } from "../api/types";
import { type ChartPlan, planCharts } from "../charts/chartSeries";
import { MetricChart } from "../charts/MetricChart";
import { ErrorMessage, KeyValues, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatMetric, formatTime, runLabel } from "../format";
import { useMetricSeries } from "../hooks/useMetricSeries";
import { useResource } from "../hooks/useResource";
import { RunPanels } from "../run/RunPanels";

const DETAILS_INTERVAL_MS = 3000;

export default function RunPage() {
  const { runId = "" } = useParams();
  const details = useResource((signal) => runDetails(runId, signal), runId);
  const run = details.data;
  const live = run !== undefined && run.ended_at === null;
  const { reload } = details;
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, DETAILS_INTERVAL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [live, reload]);
  const series = useMetricSeries(metricSeries, runId, live);

  if (run === undefined) {
    return details.error ? (
      <ErrorMessage error={details.error} onRetry={details.reload} />
    ) : (
      <Loading what="the run" />
    );
  }
  return (
    <>
      <p className="breadcrumbs">
        <Link to={`/runs?experiment=${encodeURIComponent(run.experiment)}`}>{run.experiment}</Link>
        {" / "}
        Run {run.number}
      </p>
      <div className="title-row">
        <PageTitle>{runLabel(run)}</PageTitle>
        <StatusBadge status={run.status} />
        {live && (
          <span className="live-dot" id="live-indicator">
            live
          </span>
        )}
      </div>
      {details.error && <ErrorMessage error={details.error} onRetry={details.reload} />}
      <RunFacts run={run} />
      <div className="columns">
        <KeyValues title="Parameters" values={run.params} />
        <KeyValues title="Tags" values={run.tags} />
      </div>
      {series.error && <ErrorMessage error={series.error} />}
      {series.series === undefined ? (
        <Loading what="metrics" />
      ) : (
        <Metrics series={series.series} />
      )}
      <RunPanels runId={run.id} live={live} />
    </>
  );
}

function RunFacts({ run }: { run: RunDetails }) {
  const facts: [string, string][] = [
    ["Experiment", run.experiment],
    ["Created", formatTime(run.created_at)],
    ["Started", formatTime(run.started_at)],
    ["Ended", formatTime(run.ended_at)],
    ["Duration", formatDuration(run.duration_s)],
    ["User", run.user || "—"],
    ["Compute", run.compute_target ?? "—"],
    ["Attempt", String(run.attempt)],
    ["Script", run.source.script ?? "—"],
  ];
  return (
    <section className="panel" aria-label="Run">
      {run.status_detail && <p className="status-detail">{run.status_detail}</p>}
      {run.error && (
        <p className="alert" data-field="error">
          {run.error}
        </p>
      )}
      <dl className="facts">
        {facts.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Metrics({ series }: { series: Record<string, MetricSeries> }) {
  const plan: ChartPlan = useMemo(() => planCharts(series), [series]);
  if (plan.charts.length === 0 && plan.summary.length === 0) {
    return <p className="empty">No metrics logged yet.</p>;
  }
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
          <div className="chart-grid">
            {plan.charts.map((chart) => (
              <MetricChart
                key={chart.title}
                title={chart.title}
                lines={chart.metrics.map((name) => ({
                  name,
                  points: series[name]?.points ?? [],
                }))}
              />
            ))}
          </div>
        </section>
      )}
    </>
  );
}
