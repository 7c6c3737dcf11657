// A comparison's table: rows are keys (params, or latest metrics), columns the compared runs;
// rows whose values differ are marked, and "Only differences" hides the rest.
import { type ReactNode, useState } from "react";
import { diffRows } from "./diff";

interface Props<T> {
  id: string;
  title: string;
  runLabels: string[];
  tables: Record<string, T>[];
  show: (value: T) => ReactNode;
  numeric?: boolean;
}

export function DiffTable<T>({ id, title, runLabels, tables, show, numeric = false }: Props<T>) {
  const [onlyDifferences, setOnlyDifferences] = useState(false);
  const rows = diffRows(tables);
  const shown = onlyDifferences ? rows.filter((row) => row.differs) : rows;
  const differing = rows.filter((row) => row.differs).length;
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {rows.length > 0 && (
          <label className="check">
            <input
              type="checkbox"
              checked={onlyDifferences}
              onChange={(event) => {
                setOnlyDifferences(event.target.checked);
              }}
            />
            Only differences ({differing} of {rows.length})
          </label>
        )}
      </div>
      {rows.length === 0 ? (
        <p className="empty">None.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table diff-table" id={id}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {runLabels.map((label, index) => (
                  <th scope="col" key={`${String(index)}:${label}`}>
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <tr key={row.key} className={row.differs ? "differs" : "same"}>
                  <th scope="row">
                    {row.key}
                    {row.differs && <span className="visually-hidden"> (differs)</span>}
                  </th>
                  {row.values.map((value, index) => (
                    <td key={index} className={numeric ? "numeric" : undefined}>
                      {value === undefined ? <span className="muted">—</span> : show(value)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
