// The workspace's computes as a table: the computes page shows every column, the overview a
// compact one (name, state, nodes in use, queue length).
import { Link } from "react-router";
import type { ComputeDetails } from "../api/types";

interface Props {
  computes: ComputeDetails[];
  id: string;
  compact?: boolean;
}

export function ComputesTable({ computes, id, compact = false }: Props) {
  return (
    <div className="table-wrap">
      <table className={compact ? "data-table compact-table" : "data-table"} id={id}>
        <thead>
          <tr>
            <th scope="col">Compute</th>
            <th scope="col">State</th>
            {!compact && (
              <>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">Priority</th>
              </>
            )}
            <th scope="col" className="numeric">
              Nodes in use
            </th>
            <th scope="col" className="numeric">
              Queued
            </th>
          </tr>
        </thead>
        <tbody>
          {computes.map((compute) => (
            <tr key={compute.name} data-compute={compute.name}>
              <td>
                <Link to={`/computes/${encodeURIComponent(compute.name)}`}>{compute.name}</Link>
              </td>
              <td>
                {compute.state}
                {!compact && compute.errors.length > 0 && (
                  <span className="error-text"> — {compute.errors.join("; ")}</span>
                )}
              </td>
              {!compact && (
                <>
                  <td>{compute.type}</td>
                  <td>{compute.size ?? "—"}</td>
                  <td>{compute.priority}</td>
                </>
              )}
              <td className="numeric">
                {compute.nodes_in_use} / {compute.max_nodes ?? "∞"}
              </td>
              <td className="numeric">{compute.queue.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
