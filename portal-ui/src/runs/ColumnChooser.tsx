// Which of the runs table's columns show: a disclosure of checkboxes in groups (the run's own
// columns, metrics, params, tags), plain form controls for keyboard and screen reader, kept in
// the URL with the rest of the view.
import type { ColumnChoice, ColumnGroup } from "./columns";

interface Props {
  columns: ColumnChoice[];
  shown: string[];
  onChange: (shown: string[]) => void;
  onReset: () => void;
}

const GROUPS: { group: ColumnGroup; title: string }[] = [
  { group: "run", title: "Run" },
  { group: "metric", title: "Metrics" },
  { group: "param", title: "Params" },
  { group: "tag", title: "Tags" },
];

export function ColumnChooser({ columns, shown, onChange, onReset }: Props) {
  const toggle = (id: string, on: boolean) => {
    // Kept in the table's order, so the URL reads the same whichever was ticked first.
    const next = new Set(shown);
    if (on) next.add(id);
    else next.delete(id);
    onChange(columns.map((column) => column.id).filter((other) => next.has(other)));
  };
  return (
    <details className="column-chooser">
      <summary>Columns</summary>
      <div className="column-groups">
        {GROUPS.map(({ group, title }) => {
          const inGroup = columns.filter((column) => column.group === group);
          if (inGroup.length === 0) return null;
          return (
            <fieldset key={group} data-group={group}>
              <legend>{title}</legend>
              {inGroup.map((column) => (
                <label key={column.id}>
                  <input
                    type="checkbox"
                    checked={shown.includes(column.id)}
                    onChange={(event) => {
                      toggle(column.id, event.target.checked);
                    }}
                  />
                  {column.label}
                </label>
              ))}
            </fieldset>
          );
        })}
        <button type="button" onClick={onReset}>
          Default columns
        </button>
      </div>
    </details>
  );
}
