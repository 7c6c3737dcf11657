// A run's lifecycle as stages in time: queued, each earlier attempt (running, then how it
// ended and was requeued), the current attempt (starting, running) and how the run ended; a
// live run's stages still to come are listed as pending. Each stage lasts until the next one
// with a known time, the current one until now.
import type { RunAttempt } from "../api/runLifecycle";
import type { Run, RunStatus } from "../api/types";

export type StageState = "done" | "current" | "pending" | "ended";

export interface Stage {
  label: string;
  at: string | null; // when it began, where the run records it
  durationS: number | null;
  state: StageState;
  note?: string;
  tone?: "ok" | "bad";
}

const WAITING: RunStatus[] = ["NotStarted", "Queued"];
const STARTING: RunStatus[] = ["Starting", "Preparing"];
const TERMINAL: RunStatus[] = ["Completed", "Failed", "Canceled"];
const TONE: Partial<Record<RunStatus, "ok" | "bad">> = {
  Completed: "ok",
  Failed: "bad",
  Canceled: "bad",
  Preempted: "bad",
};

type Draft = Omit<Stage, "durationS">;

export function lifecycleOf(run: Run, attempts: readonly RunAttempt[], nowMs: number): Stage[] {
  const status = run.status;
  const drafts: Draft[] = [{ label: "Queued", at: run.created_at, state: "done" }];
  for (const attempt of attempts) {
    if (attempt.started_at !== null) {
      drafts.push({ label: "Running", at: attempt.started_at, state: "done", note: `attempt ${attempt.attempt}` });
    }
    drafts.push({
      label: `${attempt.outcome}, requeued`,
      at: attempt.ended_at,
      state: "done",
      note: attempt.cause,
      tone: TONE[attempt.outcome] ?? "bad",
    });
  }
  const attemptNote = attempts.length > 0 ? `attempt ${run.attempt}` : undefined;
  if (WAITING.includes(status)) {
    markCurrent(drafts);
    drafts.push({ label: "Starting", at: null, state: "pending" });
    drafts.push({ label: "Running", at: null, state: "pending" });
  } else if (STARTING.includes(status)) {
    drafts.push({ label: "Starting", at: null, state: "current", note: status === "Preparing" ? "preparing" : undefined });
    drafts.push({ label: "Running", at: null, state: "pending" });
  } else {
    if (run.started_at !== null) {
      drafts.push({ label: "Running", at: run.started_at, state: "done", note: attemptNote });
    }
    if (TERMINAL.includes(status)) {
      drafts.push({ label: status, at: run.ended_at, state: "ended", tone: TONE[status] });
    } else if (status === "Running") {
      markCurrent(drafts);
    } else {
      // Finalizing, CancelRequested, NotResponding, Preempted (waiting to be requeued)
      drafts.push({ label: splitWords(status), at: null, state: "current", tone: TONE[status] });
    }
  }
  return withDurations(drafts, nowMs);
}

function markCurrent(drafts: Draft[]): void {
  const last = drafts.at(-1);
  if (last !== undefined) last.state = "current";
}

function splitWords(status: string): string {
  const words = status.replace(/([a-z])([A-Z])/g, "$1 $2");
  return words.charAt(0) + words.slice(1).toLowerCase();
}

function withDurations(drafts: Draft[], nowMs: number): Stage[] {
  return drafts.map((draft, index) => {
    const start = draft.at === null ? null : Date.parse(draft.at);
    let end: number | null = null;
    if (draft.state === "current") end = nowMs;
    else if (draft.state === "done") {
      const next = drafts.slice(index + 1).find((later) => later.at !== null);
      end = next?.at == null ? null : Date.parse(next.at);
      if (end === null && drafts.slice(index + 1).some((later) => later.state === "current")) end = nowMs;
    }
    const durationS = start === null || end === null ? null : Math.max(0, (end - start) / 1000);
    return { ...draft, durationS };
  });
}
