import type { RunStatus } from "../api/types";

// One colour family per kind of state; the text always says the state itself.
const TONE: Partial<Record<RunStatus, string>> = {
  Completed: "good",
  Failed: "bad",
  Canceled: "muted",
  CancelRequested: "muted",
  NotResponding: "warn",
  Preempted: "warn",
  Running: "live",
  Preparing: "live",
  Starting: "live",
  Finalizing: "live",
};

export function StatusBadge({ status }: { status: string }) {
  const tone = TONE[status as RunStatus] ?? "neutral";
  return (
    <span className={`badge badge-${tone}`} data-field="status">
      {status}
    </span>
  );
}
