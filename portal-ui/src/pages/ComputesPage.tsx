// The workspace's computes: state, size, priority, nodes in use and queue length.
import { Link } from "react-router";
import { computeDetails, listComputes } from "../api/endpoints";
import type { ComputeDetails } from "../api/types";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { useResource } from "../hooks/useResource";

export async function computesWithUse(signal: AbortSignal): Promise<ComputeDetails[]> {
  const computes = await listComputes(signal);
  return Promise.all(computes.map((compute) => computeDetails(compute.name, signal)));
}

export function ComputesPage() {
  const computes = useResource(computesWithUse, "computes");
  return (
    <>
      <PageTitle>Computes</PageTitle>
      {computes.error && <ErrorMessage error={computes.error} onRetry={computes.reload} />}
      {computes.data === undefined ? (
        computes.loading && <Loading what="computes" />
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="computes">
            <thead>
              <tr>
                <th scope="col">Compute</th>
                <th scope="col">State</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">Priority</th>
                <th scope="col" className="numeric">
                  Nodes in use
                </th>
                <th scope="col" className="numeric">
                  Queued
                </th>
              </tr>
            </thead>
            <tbody>
              {computes.data.map((compute) => (
                <tr key={compute.name} data-compute={compute.name}>
                  <td>
                    <Link to={`/computes/${encodeURIComponent(compute.name)}`}>{compute.name}</Link>
                  </td>
                  <td>
                    {compute.state}
                    {compute.errors.length > 0 && (
                      <span className="error-text"> — {compute.errors.join("; ")}</span>
                    )}
                  </td>
                  <td>{compute.type}</td>
                  <td>{compute.size ?? "—"}</td>
                  <td>{compute.priority}</td>
                  <td className="numeric">
                    {compute.nodes_in_use} / {compute.max_nodes ?? "∞"}
                  </td>
                  <td className="numeric">{compute.queue.length}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
