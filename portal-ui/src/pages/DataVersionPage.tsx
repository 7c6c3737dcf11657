// One version of a data asset: what it is, its files (each downloaded through the API), and its
// lineage: the runs that read it, the model versions registered from those runs and the
// deployments serving them, each a link to its page.
import { Link, useParams } from "react-router";
import { dataLineage, dataManifest, dataVersionUrl } from "../api/data";
import type { DataLineage, DataManifestEntry, DataVersion } from "../api/types";
import { type Fact, Facts } from "../components/Facts";
import { ErrorMessage, Loading } from "../components/Feedback";
import { FilesTable } from "../components/FilesTable";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { dataPath, lineageTree } from "../data/shaping";
import { endpointPath } from "../endpoints/shaping";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";
import { modelPath } from "../models/shaping";
import { formatSize } from "../run/runFiles";

interface Loaded {
  lineage: DataLineage; // holds the version itself
  files: DataManifestEntry[];
}

async function loadVersion(name: string, version: string, signal: AbortSignal): Promise<Loaded> {
  const [lineage, files] = await Promise.all([
    dataLineage(name, version, signal),
    dataManifest(name, version, signal),
  ]);
  return { lineage, files };
}

export function DataVersionPage() {
  const { name = "", version = "" } = useParams();
  const loaded = useResource((signal) => loadVersion(name, version, signal), `${name}:${version}`);
  if (loaded.data === undefined) {
    return loaded.error ? (
      <ErrorMessage error={loaded.error} onRetry={loaded.reload} />
    ) : (
      <Loading what="the data version" />
    );
  }
  const { lineage, files } = loaded.data;
  const current = lineage.version;
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/data">Data</Link>
        {" / "}
        <Link to={dataPath(current.name)}>{current.name}</Link>
      </p>
      <div className="title-row">
        <PageTitle>{`${current.name} version ${String(current.version)}`}</PageTitle>
        {current.archived && <span className="badge badge-muted">archived</span>}
      </div>
      <VersionFacts version={current} />
      <Lineage lineage={lineage} />
      <FilesTable files={files} base={dataVersionUrl(current.name, current.version)} id="data-files" />
    </>
  );
}

function VersionFacts({ version }: { version: DataVersion }) {
  const facts: Fact[] = [
    ["Reference", <code>{version.reference}</code>],
    ["Type", version.type],
    ["Created", formatTime(version.created_at)],
    ["Created by", version.created_by],
    ["Size", `${formatSize(version.total_bytes)} in ${String(version.file_count)} files`],
    [
      "Parent",
      version.parent_version === null ? (
        "—"
      ) : (
        <Link to={dataPath(version.name, version.parent_version)}>v{version.parent_version}</Link>
      ),
    ],
    ["Content hash", <code className="hash">{version.content_hash}</code>],
    [
      "Tags",
      Object.entries(version.tags)
        .map(([key, value]) => `${key}=${value}`)
        .join(", ") || "—",
    ],
  ];
  return (
    <section className="panel" aria-labelledby="data-facts-title">
      <h2 id="data-facts-title" className="visually-hidden">
        Version
      </h2>
      {version.description && <p>{version.description}</p>}
      <Facts facts={facts} />
    </section>
  );
}

function Lineage({ lineage }: { lineage: DataLineage }) {
  const tree = lineageTree(lineage);
  return (
    <section className="panel" aria-labelledby="data-lineage-title" id="data-lineage">
      <h2 id="data-lineage-title">Lineage</h2>
      {tree.length === 0 ? (
        <p className="empty">No run has read this version yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="lineage-runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Input</th>
                <th scope="col">Model versions registered</th>
                <th scope="col">Deployments serving them</th>
              </tr>
            </thead>
            <tbody>
              {tree.map(({ run, models }) => (
                <tr key={`${run.run_id}:${run.input_name}`} data-run={run.run_id}>
                  <td>
                    <Link to={`/runs/${encodeURIComponent(run.run_id)}`} className="lineage-run">
                      {run.experiment} · {run.run_id.slice(0, 8)}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{run.input_name}</td>
                  <td>
                    {models.length === 0
                      ? "—"
                      : models.map(({ model }, index) => (
                          <span key={`${model.name}:${String(model.version)}`}>
                            {index > 0 && ", "}
                            <Link to={modelPath(model.name, model.version)} className="lineage-model">
                              {model.name}:{model.version}
                            </Link>
                          </span>
                        ))}
                  </td>
                  <td>
                    {models.every((branch) => branch.deployments.length === 0)
                      ? "—"
                      : models
                          .flatMap((branch) => branch.deployments)
                          .map((deployment, index) => (
                            <span key={`${deployment.endpoint}/${deployment.deployment}`}>
                              {index > 0 && ", "}
                              <Link to={endpointPath(deployment.endpoint)} className="lineage-endpoint">
                                {deployment.endpoint}/{deployment.deployment}
                              </Link>{" "}
                              ({deployment.model}, {deployment.state})
                            </span>
                          ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
