// One data asset: its versions, newest first (when and by whom each was made, its files and
// size, its content hash, the version it followed, whether it is archived).
import { Link, useParams } from "react-router";
import { listDataVersions } from "../api/data";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { dataPath, shortHash } from "../data/shaping";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";
import { formatSize } from "../run/runFiles";

export function DataAssetPage() {
  const { name = "" } = useParams();
  const versions = useResource((signal) => listDataVersions(name, signal), name);
  if (versions.data === undefined) {
    return versions.error ? (
      <ErrorMessage error={versions.error} onRetry={versions.reload} />
    ) : (
      <Loading what="the data asset" />
    );
  }
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/data">Data</Link>
      </p>
      <PageTitle>{`Data ${name}`}</PageTitle>
      {versions.error && <ErrorMessage error={versions.error} onRetry={versions.reload} />}
      <section className="panel" aria-labelledby="data-versions-title">
        <h2 id="data-versions-title">Versions</h2>
        <div className="table-wrap">
          <table className="data-table" id="data-versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
                <th scope="col" className="numeric">
                  Files
                </th>
                <th scope="col" className="numeric">
                  Size
                </th>
                <th scope="col">Content hash</th>
                <th scope="col">Parent</th>
                <th scope="col">Archived</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.map((version) => (
                <tr key={version.version} data-version={version.version}>
                  <td>
                    <Link to={dataPath(version.name, version.version)}>v{version.version}</Link>
                  </td>
                  <td>{formatTime(version.created_at)}</td>
                  <td>{version.created_by}</td>
                  <td className="numeric">{version.file_count}</td>
                  <td className="numeric">{formatSize(version.total_bytes)}</td>
                  <td>
                    <code className="hash" title={version.content_hash}>
                      {shortHash(version.content_hash)}
                    </code>
                  </td>
                  <td>
                    {version.parent_version === null ? (
                      "—"
                    ) : (
                      <Link to={dataPath(version.name, version.parent_version)}>v{version.parent_version}</Link>
                    )}
                  </td>
                  <td>{version.archived ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
