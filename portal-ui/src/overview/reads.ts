// What the overview reads: the workspace, a few recent runs, how many runs are in each status
// (a one-run page per status: the server counts, no run list travels), and the computes.
import { answerOf, api } from "../api/client";
import { queryRuns, type RunsQuery } from "../api/endpoints";
import { STATUSES } from "../api/statuses";
import type { RunStatus } from "../api/types";
import type { components } from "../api/schema";

export type Workspace = components["schemas"]["Workspace"];

export const RECENT_RUNS = 8;

export function readWorkspace(signal: AbortSignal): Promise<Workspace> {
  return answerOf(api.GET("/api/v1/workspace", { signal }));
}

const ALL_RUNS: RunsQuery = {
  experiment: null,
  statuses: [],
  tags: [],
  metrics: [],
  sort: "created",
  descending: true,
  offset: 0,
  limit: RECENT_RUNS,
};

export function readRecentRuns(signal: AbortSignal) {
  return queryRuns(ALL_RUNS, signal);
}

export interface StatusCount {
  status: RunStatus;
  count: number;
}

/** Every status with its count of runs, in the lifecycle's order. */
export async function readStatusCounts(signal: AbortSignal): Promise<StatusCount[]> {
  return Promise.all(
    STATUSES.map(async (status) => {
      const page = await queryRuns({ ...ALL_RUNS, statuses: [status], limit: 1 }, signal);
      return { status, count: page.total };
    }),
  );
}
