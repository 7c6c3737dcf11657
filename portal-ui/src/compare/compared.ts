// What the compare page reads for each run: its details (params, latest metrics) and its metric
// series, from the routes the run page reads too.
import { metricSeries, runDetails } from "../api/endpoints";
import type { MetricSeries, RunDetails } from "../api/types";
import { runLabel } from "../format";

export interface ComparedRun {
  details: RunDetails;
  series: Record<string, MetricSeries>;
  label: string; // "slow (sweep #1)": which run of which experiment
}

export function comparedLabel(run: RunDetails): string {
  return `${runLabel(run)} (${run.experiment} #${String(run.number)})`;
}

export async function readCompared(ids: string[], signal: AbortSignal): Promise<ComparedRun[]> {
  return Promise.all(
    ids.map(async (id) => {
      const [details, read] = await Promise.all([
        runDetails(id, signal),
        metricSeries(id, null, signal),
      ]);
      return { details, series: read.series, label: comparedLabel(details) };
    }),
  );
}

/** The metrics worth a chart: those some run logged more than once, sorted by name. */
export function chartedMetrics(runs: ComparedRun[]): string[] {
  const names = new Set<string>();
  runs.forEach((run) => {
    Object.entries(run.series).forEach(([name, series]) => {
      if (series.count > 1) names.add(name);
    });
  });
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** Every metric any run has a latest value of, sorted: the choices of parallel coordinates. */
export function latestMetricNames(runs: ComparedRun[]): string[] {
  const names = new Set(runs.flatMap((run) => Object.keys(run.details.metrics)));
  return [...names].sort((a, b) => a.localeCompare(b));
}
