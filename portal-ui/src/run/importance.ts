// feature_importance.json (tabular/importance.py): the best model's permutation importance per
// table column, how much the primary metric drops when the column is shuffled, most important
// first. Checked at run time like every file a job writes.
import { type Checked, isRecord } from "./guardrails";

export const IMPORTANCE_PATH = "outputs/feature_importance.json";

export interface FeatureImportance {
  column: string;
  importance: number;
  std: number;
}

export interface ImportanceReport {
  metric: string;
  rows: number | null;
  repeats: number | null;
  features: FeatureImportance[]; // most important first
}

export function parseImportance(data: unknown): Checked<ImportanceReport> {
  if (!isRecord(data)) return { ok: false, reason: "it is not a JSON object" };
  if (!Array.isArray(data.features)) return { ok: false, reason: 'its "features" is not a list' };
  const features = data.features
    .filter(isRecord)
    .filter((item) => typeof item.column === "string" && Number.isFinite(item.importance))
    .map((item) => ({
      column: item.column as string,
      importance: item.importance as number,
      std: Number.isFinite(item.std) ? (item.std as number) : 0,
    }))
    .sort((a, b) => b.importance - a.importance);
  return {
    ok: true,
    value: {
      metric: typeof data.metric === "string" ? data.metric : "",
      rows: typeof data.rows === "number" ? data.rows : null,
      repeats: typeof data.repeats === "number" ? data.repeats : null,
      features,
    },
  };
}

/** A bar's length, 0 to 1 of the largest importance; a column whose shuffling did not hurt
 * (zero or negative) has none. */
export function barShare(importance: number, largest: number): number {
  if (largest <= 0 || importance <= 0) return 0;
  return Math.min(1, importance / largest);
}
