// A run: its status and where it stands (a timeline of its lifecycle, Cancel while it has not
// ended), what it was given (data it read, params, tags), its one-value metrics in a summary and the others
// as live charts; a sweep's or an AutoML run's page adds its children's leaderboard and chart.
// While the run has not ended, the page reads its details every few seconds and its series
// every 1.5 s (cheaply: see useMetricSeries).
import { lazy, Suspense } from "react";
import { Link, useParams } from "react-router";
import { metricSeries, runDetails } from "../api/endpoints";
import { runAttempts } from "../api/runLifecycle";
import type { RunDetails } from "../api/types";
import { type Fact, Facts } from "../components/Facts";
import { ErrorMessage, KeyValues, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatTime, runLabel } from "../format";
import { useInterval } from "../hooks/useInterval";
import { useMetricSeries } from "../hooks/useMetricSeries";
import { useResource } from "../hooks/useResource";
import { CancelRun } from "../run/CancelRun";
import { ParentRunBoard } from "../run/ParentRunBoard";
import { isPipelineRun } from "../run/pipelineRun";
import { RunMetrics, runStartS } from "../run/RunMetrics";
import { RunPanels } from "../run/RunPanels";
import { RegisteredModels } from "../run/RegisteredModels";
import { RunInputs } from "../run/RunInputs";
import { StatusTimeline } from "../run/StatusTimeline";

const DETAILS_INTERVAL_MS = 3000;
// React Flow comes only with a pipeline run's page.
const PipelineGraph = lazy(() => import("../run/PipelineGraph"));

export default function RunPage() {
  const { runId = "" } = useParams();
  const details = useResource((signal) => runDetails(runId, signal), runId);
  const run = details.data;
  const live = run !== undefined && run.ended_at === null;
  const { reload } = details;
  const attempts = useResource((signal) => runAttempts(runId, signal), runId);
  const reloadAttempts = attempts.reload;
  useInterval(
    () => {
      reload();
      reloadAttempts();
    },
    DETAILS_INTERVAL_MS,
    live,
  );
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
        {live && <CancelRun runId={run.id} onCanceled={reload} />}
      </div>
      {details.error && <ErrorMessage error={details.error} onRetry={details.reload} />}
      <StatusTimeline run={run} attempts={attempts.data ?? []} />
      <RunFacts run={run} />
      <RunInputs runId={run.id} />
      <RegisteredModels runId={run.id} />
      <div className="columns">
        <KeyValues title="Parameters" values={run.params} />
        <KeyValues title="Tags" values={run.tags} />
      </div>
      {series.error && <ErrorMessage error={series.error} />}
      {series.series === undefined ? (
        <Loading what="metrics" />
      ) : (
        <RunMetrics series={series.series} startS={runStartS(run, series.series)} />
      )}
      {isPipelineRun(run) && (
        <Suspense fallback={<Loading what="the pipeline's graph" />}>
          <PipelineGraph run={run} live={live} />
        </Suspense>
      )}
      <ParentRunBoard run={run} live={live} />
      <RunPanels runId={run.id} live={live} />
    </>
  );
}

function RunFacts({ run }: { run: RunDetails }) {
  const facts: Fact[] = [
    ["Experiment", run.experiment],
    ["Created", formatTime(run.created_at)],
    ["Started", formatTime(run.started_at)],
    ["Ended", formatTime(run.ended_at)],
    ["Duration", formatDuration(run.duration_s)],
    ["User", run.user || "—"],
    [
      "Compute",
      run.compute_target ? (
        <Link to={`/computes/${encodeURIComponent(run.compute_target)}`}>{run.compute_target}</Link>
      ) : (
        "—"
      ),
    ],
    ["Attempt", String(run.attempt)],
    ["Script", [run.source.script ?? "—", ...run.source.arguments].join(" ")],
  ];
  return (
    <section className="panel" aria-label="Run">
      {run.status_detail && <p className="status-detail">{run.status_detail}</p>}
      {run.error && (
        <p className="alert" data-field="error">
          {run.error}
        </p>
      )}
      <Facts facts={facts} />
    </section>
  );
}
