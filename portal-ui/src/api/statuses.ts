// Every run status, in the lifecycle's order, for the status filter. The compiler checks this
// list against the server's `RunStatus` enum in the generated schema: a status added there is
// an error here until listed.
import type { RunStatus } from "./types";

const ORDER = {
  NotStarted: 0,
  Queued: 1,
  Starting: 2,
  Preparing: 3,
  Running: 4,
  Finalizing: 5,
  CancelRequested: 6,
  NotResponding: 7,
  Preempted: 8,
  Completed: 9,
  Failed: 10,
  Canceled: 11,
} satisfies Record<RunStatus, number>;

export const STATUSES = (Object.keys(ORDER) as RunStatus[]).sort((a, b) => ORDER[a] - ORDER[b]);
