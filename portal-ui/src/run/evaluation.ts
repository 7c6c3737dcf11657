// The image-classification evaluation's artifacts (vision/evaluation.py, `write_evaluation`),
// checked at run time: confusion_matrix.json {labels, matrix[true][predicted]},
// evaluation.json {summary, accuracy, per_class: [{label, precision, recall, f1, support}]},
// misclassified.json [{index, source, label, predicted, score, thumbnail}], the thumbnail a
// path relative to the evaluation's folder (vision/thumbnails.py).
import { type Checked, isRecord } from "./guardrails";
import type { ArtifactEntry } from "./runFiles";

export const CONFUSION_FILE = "confusion_matrix.json";
export const EVALUATION_FILE = "evaluation.json";
export const MISCLASSIFIED_FILE = "misclassified.json";
const USUAL_FOLDER = "outputs/evaluation"; // where the trainer puts them (vision/train.py)

export interface ConfusionMatrixData {
  labels: string[];
  matrix: number[][]; // [true][predicted]
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluationSummary {
  summary: string;
  accuracy: number | null;
  perClass: ClassMetrics[];
  notes: string[];
}

export interface Misclassified {
  index: number;
  source: string | null;
  label: string;
  predicted: string;
  score: number | null;
  thumbnail: string | null; // relative to the evaluation's folder
}

/** The folder holding the run's confusion_matrix.json (the trainer's own first), or null. */
export function evaluationFolder(entries: ArtifactEntry[]): string | null {
  const folders = entries
    .filter((entry) => entry.path === CONFUSION_FILE || entry.path.endsWith(`/${CONFUSION_FILE}`))
    .map((entry) => entry.path.slice(0, -CONFUSION_FILE.length).replace(/\/$/, ""));
  if (folders.includes(USUAL_FOLDER)) return USUAL_FOLDER;
  return folders.sort()[0] ?? null;
}

export function parseConfusion(data: unknown): Checked<ConfusionMatrixData> {
  if (!isRecord(data)) return bad("it is not a JSON object");
  const { labels, matrix } = data;
  if (!Array.isArray(labels) || !labels.every((label) => typeof label === "string")) {
    return bad('its "labels" is not a list of names');
  }
  const size = labels.length;
  const square =
    Array.isArray(matrix) &&
    matrix.length === size &&
    matrix.every(
      (row) =>
        Array.isArray(row) &&
        row.length === size &&
        row.every((count: unknown) => typeof count === "number" && Number.isInteger(count) && count >= 0),
    );
  if (!square) return bad(`its "matrix" is not ${size} rows of ${size} counts`);
  return { ok: true, value: { labels, matrix: matrix as number[][] } };
}

export function parseEvaluation(data: unknown): Checked<EvaluationSummary> {
  if (!isRecord(data)) return bad("it is not a JSON object");
  if (!Array.isArray(data.per_class)) return bad('its "per_class" is not a list');
  const perClass: ClassMetrics[] = [];
  for (const item of data.per_class) {
    const scores = classMetricsOf(item);
    if (scores === null) return bad('an entry of "per_class" lacks its label or numbers');
    perClass.push(scores);
  }
  return {
    ok: true,
    value: {
      summary: typeof data.summary === "string" ? data.summary : "",
      accuracy: typeof data.accuracy === "number" ? data.accuracy : null,
      perClass,
      notes: Array.isArray(data.notes)
        ? data.notes.filter((note): note is string => typeof note === "string")
        : [],
    },
  };
}

function classMetricsOf(item: unknown): ClassMetrics | null {
  if (!isRecord(item) || typeof item.label !== "string") return null;
  const { precision, recall, f1, support } = item;
  if (![precision, recall, f1, support].every((value) => typeof value === "number")) return null;
  return {
    label: item.label,
    precision: precision as number,
    recall: recall as number,
    f1: f1 as number,
    support: support as number,
  };
}

export function parseMisclassified(data: unknown): Checked<Misclassified[]> {
  if (!Array.isArray(data)) return bad("it is not a JSON list");
  const items: Misclassified[] = [];
  for (const item of data) {
    if (!isRecord(item) || typeof item.label !== "string" || typeof item.predicted !== "string") {
      return bad("an entry lacks its label or prediction");
    }
    items.push({
      index: typeof item.index === "number" ? item.index : items.length,
      source: typeof item.source === "string" ? item.source : null,
      label: item.label,
      predicted: item.predicted,
      score: typeof item.score === "number" ? item.score : null,
      thumbnail: safeRelative(item.thumbnail),
    });
  }
  return { ok: true, value: items };
}

/** A relative path inside the evaluation's folder, or null (the server checks paths too). */
function safeRelative(value: unknown): string | null {
  if (typeof value !== "string" || value === "" || value.startsWith("/")) return null;
  return value.split("/").some((part) => part === ".." || part === "") ? null : value;
}

function bad<T>(reason: string): Checked<T> {
  return { ok: false, reason };
}
