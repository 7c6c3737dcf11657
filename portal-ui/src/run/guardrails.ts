// guardrails.json (vision/guardrails.py, `GuardrailReport.to_dict`) checked at run time: the
// file comes from a job, so nothing about its shape is taken on trust. A file that is not such
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

export interface GuardrailsReport {
  passed: boolean;
  summary: string;
  fileCount: number | null;
  usableCount: number | null;
  badFileCount: number | null;
  classCounts: [string, number][]; // by class name
  limits: [string, number][]; // by limit name
  issues: GuardrailIssue[]; // errors first
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
