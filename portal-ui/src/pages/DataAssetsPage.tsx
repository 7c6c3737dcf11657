// The data assets: name, latest version, its type and description, how many versions, when each
// last changed. Archived assets are hidden unless asked for.
import { useState } from "react";
import { Link } from "react-router";
import { listDataAssets } from "../api/data";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { dataPath } from "../data/shaping";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";

export function DataAssetsPage() {
  const [includeArchived, setIncludeArchived] = useState(false);
  // The server lists them by name, each with its latest version's type and description.
  const rows = useResource((signal) => listDataAssets(includeArchived, signal), `data:${String(includeArchived)}`);
  return (
    <>
      <PageTitle>Data</PageTitle>
      {rows.error && <ErrorMessage error={rows.error} onRetry={rows.reload} />}
      <div className="filters">
        <label className="inline-check">
          <input
            type="checkbox"
            id="show-archived"
            checked={includeArchived}
            onChange={(event) => {
              setIncludeArchived(event.target.checked);
            }}
          />{" "}
          Show archived
        </label>
      </div>
      {rows.data === undefined ? (
        rows.loading && <Loading what="data assets" />
      ) : rows.data.length === 0 ? (
        <p className="empty">
          No data asset yet: create one with <code>modelyard data create</code>.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="data-assets">
            <thead>
              <tr>
                <th scope="col">Asset</th>
                <th scope="col" className="numeric">
                  Latest
                </th>
                <th scope="col">Type</th>
                <th scope="col" className="numeric">
                  Versions
                </th>
                <th scope="col">Updated</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {rows.data.map((asset) => (
                <tr key={asset.name} data-asset={asset.name}>
                  <td>
                    <Link to={dataPath(asset.name)}>{asset.name}</Link>
                    {asset.archived && <span className="badge badge-muted">archived</span>}
                  </td>
                  <td className="numeric">
                    {asset.latest_version === null ? (
                      "—"
                    ) : (
                      <Link
                        to={dataPath(asset.name, asset.latest_version)}
                        aria-label={`v${String(asset.latest_version)} of ${asset.name}`}
                      >
                        v{asset.latest_version}
                      </Link>
                    )}
                  </td>
                  <td>{asset.latest_type ?? "—"}</td>
                  <td className="numeric">{asset.version_count}</td>
                  <td>{formatTime(asset.updated_at)}</td>
                  <td>{asset.latest_description ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
