// How a runs table's cells read: short enough to stay on one line, with the whole value on hover.
import { Link } from "react-router";
import type { RunRow } from "../api/types";
import { formatTime, runLabel } from "../format";

const THIS_YEAR = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const OTHER_YEAR = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** "Jan 2, 03:04" this year, "Jan 2, 2025" before: one line in a narrow column. */
export function compactTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.getFullYear() === now.getFullYear() ? THIS_YEAR : OTHER_YEAR).format(date);
}

export function TimeCell({ iso }: { iso: string | null }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={formatTime(iso)} className="nowrap">
      {compactTime(iso)}
    </time>
  );
}

/** "flowers #3": which run of which experiment, where numbers repeat across experiments. */
export function runReference(run: RunRow, withExperiment: boolean): string {
  return withExperiment ? `${run.experiment} #${String(run.number)}` : `#${String(run.number)}`;
}

export function RunNameCell({ run, withExperiment }: { run: RunRow; withExperiment: boolean }) {
  return (
    <span className="run-name nowrap">
      <Link to={`/runs/${encodeURIComponent(run.id)}`}>{runLabel(run)}</Link>{" "}
      <span className="run-ref">{runReference(run, withExperiment)}</span>
    </span>
  );
}

export function TextCell({ text }: { text: string | undefined }) {
  if (text === undefined || text === "") return <span className="muted">—</span>;
  return (
    <span className="clipped" title={text}>
      {text}
    </span>
  );
}
