// guardrails.json (vision/guardrails.py, `GuardrailReport.to_dict`; for a table,
// tabular/guardrails.py's `CheckedTable.to_dict`, the same shape plus every check by name with
// its status) checked at run time: the file comes from a job, so nothing about its shape is
// taken on trust. A file that is not such
// a report is one line saying why, never a broken page.
export const GUARDRAILS_PATH = "outputs/guardrails.json";
export const ISSUES_SHOWN_MAX = 200;

export interface GuardrailIssue {
  severity: "error" | "warning";
  kind: string;
  path: string | null;
  label: string | null;
  detail: string;
  fix: string;
}

// A table's check: Passed (nothing found), Done (found and handled), Alerted (found, left to
// the user), Failed (the run stopped before fitting).
export interface GuardrailCheck {
  kind: string;
  status: string;
  detail: string;
  fix: string;
  columns: string[];
}

export interface GuardrailsReport {
  passed: boolean;
  summary: string;
  fileCount: number | null;
  usableCount: number | null;
  badFileCount: number | null;
  classCounts: [string, number][]; // by class name
  limits: [string, number][]; // by limit name
  issues: GuardrailIssue[]; // errors first
  checks: GuardrailCheck[]; // a table's, in the order run; none for images
  rowCount: number | null;
  featureCount: number | null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parseGuardrails(data: unknown): Checked<GuardrailsReport> {
  if (!isRecord(data)) return bad("it is not a JSON object");
  if (typeof data.passed !== "boolean") return bad('its "passed" is not true or false');
  const errors = issuesOf(data.errors, "error");
  const warnings = issuesOf(data.warnings, "warning");
  if (errors === null) return bad('its "errors" is not a list');
  if (warnings === null) return bad('its "warnings" is not a list');
  return {
    ok: true,
    value: {
      passed: data.passed,
      summary: typeof data.summary === "string" ? data.summary : "",
      fileCount: countOf(data.file_count),
      usableCount: countOf(data.usable_count),
      badFileCount: countOf(data.bad_file_count),
      classCounts: numbersByName(data.class_counts),
      limits: numbersByName(data.limits),
      issues: [...errors, ...warnings],
      checks: checksOf(data.checks),
      rowCount: countOf(data.row_count),
      featureCount: countOf(data.feature_count),
    },
  };
}

function bad<T>(reason: string): Checked<T> {
  return { ok: false, reason };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function issuesOf(value: unknown, severity: GuardrailIssue["severity"]): GuardrailIssue[] | null {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return null;
  return value.filter(isRecord).map((issue) => ({
    severity,
    kind: textOf(issue.kind),
    path: typeof issue.path === "string" ? issue.path : null,
    label: typeof issue.label === "string" ? issue.label : null,
    detail: textOf(issue.detail ?? issue.message),
    fix: textOf(issue.fix),
  }));
}

function checksOf(value: unknown): GuardrailCheck[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecord).map((check) => ({
    kind: textOf(check.kind),
    status: textOf(check.status),
    detail: textOf(check.detail),
    fix: textOf(check.fix),
    columns: Array.isArray(check.columns)
      ? check.columns.filter((column): column is string => typeof column === "string")
      : [],
  }));
}

/** A check's badge: Passed good, Done neutral (handled), Alerted a warning, Failed bad. */
export function checkBadgeClass(status: string): string {
  switch (status) {
    case "Passed":
      return "badge-good";
    case "Alerted":
      return "badge-warn";
    case "Failed":
      return "badge-bad";
    default:
      return "badge-neutral";
  }
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function countOf(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function numbersByName(value: unknown): [string, number][] {
  if (!isRecord(value)) return [];
  return Object.entries(value)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .sort(([a], [b]) => a.localeCompare(b));
}
