// The run's lifecycle as a small horizontal timeline (timeline.ts): each stage with when it
// began and how long it lasted; the current one marked, its duration counting while it lasts.
import { useState } from "react";
import type { RunAttempt } from "../api/runLifecycle";
import type { Run } from "../api/types";
import { formatDuration, formatTime } from "../format";
import { useInterval } from "../hooks/useInterval";
import { lifecycleOf, type Stage } from "./timeline";

const TICK_MS = 1000;

interface Props {
  run: Run;
  attempts: readonly RunAttempt[];
}

export function StatusTimeline({ run, attempts }: Props) {
  const live = run.ended_at === null;
  const [now, setNow] = useState(() => Date.now());
  useInterval(
    () => {
      setNow(Date.now());
    },
    TICK_MS,
    live,
  );
  return <Timeline stages={lifecycleOf(run, attempts, now)} />;
}

export function Timeline({ stages }: { stages: Stage[] }) {
  return (
    <ol className="timeline" aria-label="Status timeline" id="status-timeline">
      {stages.map((stage, index) => (
        <li
          key={`${stage.label}-${String(index)}`}
          className={`timeline-stage timeline-${stage.state}${stage.tone ? ` timeline-${stage.tone}` : ""}`}
          data-stage={stage.label}
          data-state={stage.state}
          aria-current={stage.state === "current" ? "step" : undefined}
        >
          <span className="timeline-label">{stage.label}</span>
          {stage.note && <span className="timeline-note">{stage.note}</span>}
          {stage.at !== null && <time dateTime={stage.at}>{formatTime(stage.at)}</time>}
          {stage.durationS !== null && (
            <span className="timeline-duration">{formatDuration(stage.durationS)}</span>
          )}
        </li>
      ))}
    </ol>
  );
}
