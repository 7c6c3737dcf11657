import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { RunAttempt } from "../api/runLifecycle";
import type { Run } from "../api/types";
import { CancelRun } from "./CancelRun";
import { Timeline } from "./StatusTimeline";
import { lifecycleOf } from "./timeline";

const T0 = Date.parse("2026-01-05T10:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function run(fields: Partial<Run>): Run {
  return {
    id: "r1",
    experiment: "flowers",
    experiment_id: "e1",
    number: 1,
    display_name: "a run",
    status: "Queued",
    parent_id: null,
    compute_target: "local",
    user: "ana",
    created_at: at(0),
    started_at: null,
    ended_at: null,
    heartbeat_at: null,
    error: null,
    source: { script: "train.py", arguments: [], git_commit: null, git_dirty: null, git_repository: null },
    handle: null,
    attempt: 1,
    queued_at: at(0),
    status_detail: null,
    ...fields,
  };
}

const brief = (stages: ReturnType<typeof lifecycleOf>) =>
  stages.map((stage) => [stage.label, stage.state, stage.durationS]);

describe("lifecycleOf", () => {
  it("shows a queued run waiting, with the stages still to come", () => {
    expect(brief(lifecycleOf(run({}), [], T0 + 30_000))).toEqual([
      ["Queued", "current", 30],
      ["Starting", "pending", null],
      ["Running", "pending", null],
    ]);
  });

  it("times a completed run's wait and its run", () => {
    const done = run({ status: "Completed", started_at: at(5), ended_at: at(65) });
    const stages = lifecycleOf(done, [], T0 + 999_000);
    expect(brief(stages)).toEqual([
      ["Queued", "done", 5],
      ["Running", "done", 60],
      ["Completed", "ended", null],
    ]);
    expect(stages.at(-1)?.tone).toBe("ok");
  });

  it("lists a requeued run's earlier attempts and how each ended", () => {
    const attempts: RunAttempt[] = [
      { attempt: 1, started_at: at(10), ended_at: at(100), outcome: "Preempted", cause: "a higher-priority job" },
    ];
    const running = run({ status: "Running", attempt: 2, queued_at: at(100), started_at: at(130) });
    const stages = lifecycleOf(running, attempts, T0 + 190_000);
    expect(brief(stages)).toEqual([
      ["Queued", "done", 10],
      ["Running", "done", 90],
      ["Preempted, requeued", "done", 30],
      ["Running", "current", 60],
    ]);
    expect(stages[1]?.note).toBe("attempt 1");
    expect(stages[2]?.note).toBe("a higher-priority job");
    expect(stages[3]?.note).toBe("attempt 2");
  });

  it("ends a run canceled before it started without a running stage", () => {
    const canceled = run({ status: "Canceled", ended_at: at(20) });
    expect(brief(lifecycleOf(canceled, [], T0))).toEqual([
      ["Queued", "done", 20],
      ["Canceled", "ended", null],
    ]);
  });

  it("names a stage between running and its end, such as a requested cancel", () => {
    const stopping = run({ status: "CancelRequested", started_at: at(1) });
    expect(brief(lifecycleOf(stopping, [], T0 + 11_000)).at(-1)).toEqual(["Cancel requested", "current", null]);
  });
});

describe("Timeline", () => {
  it("marks the current stage for assistive technology and shows times and durations", () => {
    const done = run({ status: "Running", started_at: at(5) });
    render(<Timeline stages={lifecycleOf(done, [], T0 + 65_000)} />);
    const list = screen.getByRole("list", { name: "Status timeline" });
    const items = list.querySelectorAll("li");
    expect([...items].map((item) => item.dataset.stage)).toEqual(["Queued", "Running"]);
    expect(items[1]?.getAttribute("aria-current")).toBe("step");
    expect(items[1]?.textContent).toContain("1 min 0 s");
    expect(items[0]?.querySelector("time")?.getAttribute("datetime")).toBe(at(0));
  });
});

describe("CancelRun", () => {
  it("asks before cancelling and can be told to keep the run going", () => {
    render(<CancelRun runId="r1" onCanceled={() => undefined} />);
    fireEvent.click(screen.getByRole("button", { name: "Cancel run" }));
    const confirm = screen.getByRole("button", { name: "Yes, cancel it" });
    expect(document.activeElement).toBe(confirm);
    fireEvent.click(screen.getByRole("button", { name: "Keep running" }));
    expect(screen.getByRole("button", { name: "Cancel run" })).toBeTruthy();
  });
});
