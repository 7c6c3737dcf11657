// Runs side by side (/compare?runs=ID1,ID2): one chart per metric with a line per run, the
// params and latest metrics as diff tables, and parallel coordinates of params against a metric.
// While any compared run has not ended, the page reads them again every few seconds (the charts
// keep the reader's zoom).
import { useEffect } from "react";
import { Link, useSearchParams } from "react-router";
import { MetricChart } from "../charts/MetricChart";
import { ComparedRuns } from "../compare/ComparedRuns";
import {
  chartedMetrics,
  type ComparedRun,
  latestMetricNames,
  readCompared,
} from "../compare/compared";
import { comparedIds } from "../compare/compareUrl";
import { DiffTable } from "../compare/DiffTable";
import { ParallelCoordinates } from "../compare/ParallelCoordinates";
import "../compare/compare.css";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { formatMetric } from "../format";
import { useResource } from "../hooks/useResource";

const LIVE_INTERVAL_MS = 3000;

export default function ComparePage() {
  const [params, setParams] = useSearchParams();
  const ids = comparedIds(params);
  const compared = useResource((signal) => readCompared(ids, signal), ids.join(","));
  const live = (compared.data ?? []).some((run) => run.details.ended_at === null);
  const { reload } = compared;
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, LIVE_INTERVAL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [live, reload]);
  if (ids.length < 2) {
    return (
      <>
        <PageTitle>Compare runs</PageTitle>
        <p className="alert" role="alert">
          Pick at least two runs to compare: tick them in the <Link to="/runs">runs table</Link>,
          then Compare.
        </p>
      </>
    );
  }
  const runs = compared.data;
  const chooseMetric = (metric: string) => {
    const next = new URLSearchParams(params);
    next.set("metric", metric);
    setParams(next, { replace: true });
  };
  return (
    <>
      <PageTitle>{`Compare ${String(ids.length)} runs`}</PageTitle>
      {compared.error && <ErrorMessage error={compared.error} onRetry={compared.reload} />}
      {runs === undefined ? (
        compared.loading && <Loading what="the runs" />
      ) : (
        <>
          <ComparedRuns runs={runs} />
          <Charts runs={runs} />
          <DiffTable
            id="params-diff"
            title="Parameters"
            runLabels={runs.map((run) => run.label)}
            tables={runs.map((run) => run.details.params)}
            show={(value) => value}
          />
          <Parallel runs={runs} chosen={params.get("metric")} onMetric={chooseMetric} />
          <DiffTable
            id="metrics-diff"
            title="Latest metrics"
            runLabels={runs.map((run) => run.label)}
            tables={runs.map((run) => run.details.metrics)}
            show={(value) => formatMetric(value)}
            numeric
          />
        </>
      )}
    </>
  );
}

function Charts({ runs }: { runs: ComparedRun[] }) {
  const metrics = chartedMetrics(runs);
  return (
    <section className="panel" aria-labelledby="compare-charts-title">
      <h2 id="compare-charts-title">Metrics</h2>
      {metrics.length === 0 ? (
        <p className="empty">None of these runs logged a metric more than once.</p>
      ) : (
        <div className="chart-grid">
          {metrics.map((name) => (
            <MetricChart
              key={name}
              title={name}
              lines={runs
                .filter((run) => run.series[name] !== undefined)
                .map((run) => ({ name: run.label, points: run.series[name]?.points ?? [] }))}
            />
          ))}
        </div>
      )}
    </section>
  );
}

interface ParallelProps {
  runs: ComparedRun[];
  chosen: string | null;
  onMetric: (metric: string) => void;
}

function Parallel({ runs, chosen, onMetric }: ParallelProps) {
  const metrics = latestMetricNames(runs);
  const metric = chosen !== null && metrics.includes(chosen) ? chosen : metrics[0];
  return (
    <section className="panel" aria-labelledby="parallel-title" id="parallel-coordinates">
      <h2 id="parallel-title">Params against a metric</h2>
      {metric === undefined ? (
        <p className="empty">None of these runs logged a metric.</p>
      ) : (
        <ParallelCoordinates
          runs={runs.map((run) => ({
            id: run.details.id,
            label: run.label,
            params: run.details.params,
            metrics: run.details.metrics,
          }))}
          metrics={metrics}
          metric={metric}
          onMetric={onMetric}
        />
      )}
    </section>
  );
}
