// Which of the runs table's columns show: a disclosure of checkboxes (keyboard and screen
// reader friendly as plain form controls), kept in the URL with the rest of the view.
export interface ChoosableColumn {
  id: string;
  label: string;
}

interface Props {
  columns: ChoosableColumn[];
  hidden: string[];
  onChange: (hidden: string[]) => void;
}

export function ColumnChooser({ columns, hidden, onChange }: Props) {
  const toggle = (id: string, shown: boolean) => {
    onChange(shown ? hidden.filter((other) => other !== id) : [...hidden, id]);
  };
  return (
    <details className="column-chooser">
      <summary>Columns</summary>
      <fieldset>
        <legend className="visually-hidden">Columns to show</legend>
        {columns.map((column) => (
          <label key={column.id}>
            <input
              type="checkbox"
              checked={!hidden.includes(column.id)}
              onChange={(event) => {
                toggle(column.id, event.target.checked);
              }}
            />
            {column.label}
          </label>
        ))}
      </fieldset>
    </details>
  );
}
