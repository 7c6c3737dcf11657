// One version of a model: what it is, its files (each with its size and SHA-256, downloaded
// through the API), its tags (contributors edit them) and add-only properties, its input and
// output, where it came from (run, experiment, data), the endpoints it serves on, and how to use
// it from the CLI and SDK.
import { useState } from "react";
import { Link, useParams } from "react-router";
import { getVersion, modelVersionUrl, updateVersion } from "../api/models";
import type { ModelVersion } from "../api/types";
import { type Fact, Facts } from "../components/Facts";
import { ErrorMessage, Loading } from "../components/Feedback";
import { FilesTable } from "../components/FilesTable";
import { PageTitle } from "../components/Layout";
import { DeployedTo } from "../endpoints/DeployedTo";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";
import { VersionAliasBadges } from "../models/AliasBadges";
import { PairsEditor } from "../models/PairsEditor";
import { SchemaPanel } from "../models/SchemaPanel";
import { modelPath, usageSnippets } from "../models/shaping";
import { formatSize } from "../run/runFiles";

export function ModelVersionPage() {
  const { name = "", version = "" } = useParams();
  const loaded = useResource((signal) => getVersion(name, version, signal), `${name}:${version}`);
  // A change answers the version as it now is: shown at once, without reading it again.
  const [changed, setChanged] = useState<ModelVersion | undefined>();
  const current = changed?.reference === loaded.data?.reference ? changed : loaded.data;
  if (current === undefined) {
    return loaded.error ? (
      <ErrorMessage error={loaded.error} onRetry={loaded.reload} />
    ) : (
      <Loading what="the model version" />
    );
  }
  const change = async (update: Parameters<typeof updateVersion>[2]) => {
    setChanged(await updateVersion(current.name, current.version, update));
  };
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/models">Models</Link>
        {" / "}
        <Link to={modelPath(current.name)}>{current.name}</Link>
      </p>
      <div className="title-row">
        <PageTitle>{`${current.name} version ${String(current.version)}`}</PageTitle>
        <VersionAliasBadges aliases={current.aliases} />
      </div>
      <VersionFacts version={current} />
      <FilesTable files={current.files} base={modelVersionUrl(current.name, current.version)} id="files" />
      <div className="columns">
        <PairsEditor
          title="Tags"
          values={current.tags}
          onSet={(key, value) => change({ set_tags: { [key]: value } })}
          onRemove={(key) => change({ delete_tags: [key] })}
        />
        <PairsEditor
          title="Properties"
          values={current.properties}
          note="Properties are add-only: once added, a property keeps its value."
          onSet={(key, value) => change({ add_properties: { [key]: value } })}
        />
      </div>
      <SchemaPanel input={current.input_schema} output={current.output_schema} />
      <Usage version={current} />
    </>
  );
}

function VersionFacts({ version }: { version: ModelVersion }) {
  const { run_id: runId, experiment, data_hash: dataHash } = version.lineage;
  const facts: Fact[] = [
    ["Created", formatTime(version.created_at)],
    ["Created by", version.created_by],
    ["Framework", version.framework ?? "—"],
    ["Size", `${formatSize(version.size)} in ${String(version.files.length)} files`],
    [
      "Source run",
      runId ? (
        <Link to={`/runs/${encodeURIComponent(runId)}`} id="lineage-run">
          {runId}
        </Link>
      ) : (
        "—"
      ),
    ],
    [
      "Experiment",
      experiment ? <Link to={`/runs?experiment=${encodeURIComponent(experiment)}`}>{experiment}</Link> : "—",
    ],
    ["Data hash", dataHash ? <code className="hash">{dataHash}</code> : "—"],
    ["Deployed to", <DeployedTo reference={version.reference} />],
  ];
  return (
    <section className="panel" aria-labelledby="version-facts-title" id="lineage">
      <h2 id="version-facts-title" className="visually-hidden">
        Version and lineage
      </h2>
      {version.description && <p>{version.description}</p>}
      <Facts facts={facts} />
    </section>
  );
}

function Usage({ version }: { version: ModelVersion }) {
  const { cli, sdk } = usageSnippets(version);
  return (
    <section className="panel" aria-labelledby="usage-title" id="usage">
      <h2 id="usage-title">How to use</h2>
      <h3>Command line</h3>
      <pre className="code-block" tabIndex={0} aria-label="Command line">
        {cli}
      </pre>
      <h3>Python SDK</h3>
      <pre className="code-block" tabIndex={0} aria-label="Python SDK">
        {sdk}
      </pre>
    </section>
  );
}
