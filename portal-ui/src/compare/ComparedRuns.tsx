// The compared runs in a short table: which run of which experiment, its state and times.
import { Link } from "react-router";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, runLabel } from "../format";
import { TimeCell } from "../runs/cells";
import type { ComparedRun } from "./compared";

export function ComparedRuns({ runs }: { runs: ComparedRun[] }) {
  return (
    <div className="table-wrap compared-runs">
      <table className="data-table" id="compared-runs">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Experiment</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map(({ details: run }) => (
            <tr key={run.id} data-run-id={run.id}>
              <td>
                <Link to={`/runs/${encodeURIComponent(run.id)}`}>{runLabel(run)}</Link>{" "}
                <span className="muted">#{run.number}</span>
              </td>
              <td>
                <Link to={`/runs?experiment=${encodeURIComponent(run.experiment)}`}>
                  {run.experiment}
                </Link>
              </td>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                <TimeCell iso={run.created_at} />
              </td>
              <td>{formatDuration(run.duration_s)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
