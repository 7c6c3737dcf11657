// How values read on a page: times in the reader's locale, durations short, numbers compact.
import type { JsonFloat } from "./api/types";

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** From start to end (or now, while it runs), as the server computes a run's duration. */
export function runDurationS(startedAt: string | null, endedAt: string | null): number | null {
  if (!startedAt) return null;
  const end = endedAt ? new Date(endedAt) : new Date();
  return Math.max(0, (end.getTime() - new Date(startedAt).getTime()) / 1000);
}

export function formatMetric(value: JsonFloat | null | undefined): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return value.toString();
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(3);
  const text = value.toPrecision(4);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

export function runLabel(run: { display_name: string | null; number: number }): string {
  return run.display_name ?? `Run ${run.number}`;
}
