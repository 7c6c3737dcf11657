// A run's metric series, polled while the run is live. Each poll sends the version of the last
// answer; the server answers `changed: false` (and no series) when the run logged nothing
// since, so a quiet run costs one tiny request per interval.
import { useEffect, useState } from "react";
import type { MetricSeries, MetricSeriesRead } from "../api/types";
import { asError } from "./useResource";

export type SeriesReader = (
  runId: string,
  version: string | null,
  signal: AbortSignal,
) => Promise<MetricSeriesRead>;

export interface SeriesState {
  series: Record<string, MetricSeries> | undefined;
  version: string | null;
  error: Error | undefined;
}

export const POLL_INTERVAL_MS = 1500;

export function useMetricSeries(
  read: SeriesReader,
  runId: string,
  live: boolean,
  intervalMs: number = POLL_INTERVAL_MS,
): SeriesState {
  const [state, setState] = useState<SeriesState>({
    series: undefined,
    version: null,
    error: undefined,
  });

  useEffect(() => {
    const controller = new AbortController();
    let version: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const answer = await read(runId, version, controller.signal);
        if (controller.signal.aborted) return;
        version = answer.version;
        setState((previous) => ({
          series: answer.changed ? answer.series : previous.series,
          version: answer.version,
          error: undefined,
        }));
      } catch (error) {
        if (controller.signal.aborted) return;
        setState((previous) => ({ ...previous, error: asError(error) }));
      }
      if (live) {
        timer = setTimeout(() => void poll(), intervalMs);
      }
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [read, runId, live, intervalMs]);

  return state;
}
