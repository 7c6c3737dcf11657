// Precision, recall, F1 and support of each class, sorted by any column (click its header).
import { useState } from "react";
import type { ClassMetrics } from "./evaluation";

type Column = keyof ClassMetrics;

const COLUMNS: { key: Column; title: string; numeric: boolean }[] = [
  { key: "label", title: "Class", numeric: false },
  { key: "precision", title: "Precision", numeric: true },
  { key: "recall", title: "Recall", numeric: true },
  { key: "f1", title: "F1", numeric: true },
  { key: "support", title: "Support", numeric: true },
];

interface Sort {
  column: Column;
  descending: boolean;
}

export function ClassMetricsTable({ classes }: { classes: ClassMetrics[] }) {
  const [sort, setSort] = useState<Sort>({ column: "label", descending: false });
  const rows = sortedClasses(classes, sort);
  const sortBy = (column: Column) => {
    setSort((current) =>
      current.column === column
        ? { column, descending: !current.descending }
        : { column, descending: column !== "label" }, // numbers: the largest first
    );
  };
  return (
    <div className="table-wrap">
      <table className="data-table" id="class-metrics">
        <caption>Per-class metrics on the validation set</caption>
        <thead>
          <tr>
            {COLUMNS.map(({ key, title, numeric }) => (
              <th
                key={key}
                scope="col"
                className={numeric ? "numeric" : undefined}
                aria-sort={sort.column === key ? (sort.descending ? "descending" : "ascending") : "none"}
                data-column={key}
              >
                <button
                  type="button"
                  className="sort-button"
                  onClick={() => {
                    sortBy(key);
                  }}
                >
                  {title}
                  {sort.column === key ? (sort.descending ? " ▼" : " ▲") : ""}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((scores) => (
            <tr key={scores.label} data-class={scores.label}>
              <th scope="row">{scores.label}</th>
              <td className="numeric">{scores.precision.toFixed(3)}</td>
              <td className="numeric">{scores.recall.toFixed(3)}</td>
              <td className="numeric">{scores.f1.toFixed(3)}</td>
              <td className="numeric">{scores.support}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function sortedClasses(classes: ClassMetrics[], sort: Sort): ClassMetrics[] {
  const direction = sort.descending ? -1 : 1;
  return [...classes].sort((a, b) => {
    const x = a[sort.column];
    const y = b[sort.column];
    const order = typeof x === "string" ? x.localeCompare(String(y)) : x - (y as number);
    return order * direction || a.label.localeCompare(b.label);
  });
}
