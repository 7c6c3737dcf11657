// The runs table's status filter: any number of statuses (the server matches any of them), as
// checkboxes in a disclosure, like the column chooser.
import { STATUSES } from "../api/statuses";
import type { RunStatus } from "../api/types";

interface Props {
  chosen: RunStatus[];
  onChange: (statuses: RunStatus[]) => void;
}

export function StatusFilter({ chosen, onChange }: Props) {
  const toggle = (status: RunStatus, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(status);
    else next.delete(status);
    onChange(STATUSES.filter((other) => next.has(other)));
  };
  return (
    <details className="column-chooser status-filter">
      <summary>
        Status: {chosen.length === 0 ? "any" : chosen.join(", ")}
      </summary>
      <div className="column-groups">
        <fieldset>
          <legend>Runs in any of</legend>
          {STATUSES.map((status) => (
            <label key={status}>
              <input
                type="checkbox"
                checked={chosen.includes(status)}
                onChange={(event) => {
                  toggle(status, event.target.checked);
                }}
              />
              {status}
            </label>
          ))}
        </fieldset>
      </div>
    </details>
  );
}
