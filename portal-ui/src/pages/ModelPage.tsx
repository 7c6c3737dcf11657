// One model: its versions, newest first (who made each, from which run, its size, tags and
// aliases), and its aliases to set, move or remove.
import { Link, useParams } from "react-router";
import { getModel, listVersions } from "../api/models";
import type { ModelVersion, RegisteredModel } from "../api/types";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";
import { VersionAliasBadges } from "../models/AliasBadges";
import { AliasManager } from "../models/AliasManager";
import { aliasesByVersion, modelPath } from "../models/shaping";
import { formatSize } from "../run/runFiles";

interface Loaded {
  model: RegisteredModel;
  versions: ModelVersion[];
}

async function loadModel(name: string, signal: AbortSignal): Promise<Loaded> {
  const [model, versions] = await Promise.all([getModel(name, signal), listVersions(name, signal)]);
  return { model, versions };
}

export function ModelPage() {
  const { name = "" } = useParams();
  const loaded = useResource((signal) => loadModel(name, signal), name);
  if (loaded.data === undefined) {
    return loaded.error ? (
      <ErrorMessage error={loaded.error} onRetry={loaded.reload} />
    ) : (
      <Loading what="the model" />
    );
  }
  const { model, versions } = loaded.data;
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/models">Models</Link>
      </p>
      <PageTitle>{`Model ${model.name}`}</PageTitle>
      {loaded.error && <ErrorMessage error={loaded.error} onRetry={loaded.reload} />}
      <VersionsTable model={model} versions={versions} />
      <AliasManager
        key={versions.map((version) => version.version).join(",")}
        name={model.name}
        aliases={model.aliases}
        versions={versions.map((version) => version.version)}
        onChanged={loaded.reload}
      />
    </>
  );
}

function VersionsTable({ model, versions }: Loaded & { model: RegisteredModel }) {
  // The summary's aliases: a version's own list would need every version read again.
  const aliases = aliasesByVersion(model.aliases);
  return (
    <section className="panel" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <div className="table-wrap">
        <table className="data-table" id="versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Created</th>
              <th scope="col">By</th>
              <th scope="col">Framework</th>
              <th scope="col" className="numeric">
                Size
              </th>
              <th scope="col">Source run</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((version) => (
              <tr key={version.version} data-version={version.version}>
                <td>
                  {/* The aliases beside the number: still in sight where the table scrolls. */}
                  <span className="version-cell">
                    <Link to={modelPath(version.name, version.version)}>v{version.version}</Link>
                    <VersionAliasBadges aliases={aliases.get(version.version) ?? []} />
                  </span>
                </td>
                <td>{formatTime(version.created_at)}</td>
                <td>{version.created_by}</td>
                <td>{version.framework ?? "—"}</td>
                <td className="numeric">{formatSize(version.size)}</td>
                <td>
                  {version.lineage.run_id ? (
                    <Link to={`/runs/${encodeURIComponent(version.lineage.run_id)}`}>
                      {version.lineage.experiment ?? "run"} · {version.lineage.run_id.slice(0, 8)}
                    </Link>
                  ) : (
                    "—"
                  )}
                </td>
                <td>
                  {Object.entries(version.tags)
                    .map(([key, value]) => `${key}=${value}`)
                    .join(", ") || "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
