// The tail of an endpoint's logs: each replica's (one deployment's, or all) and its front's,
// read when the tab opens and again on "Refresh".
import { useState } from "react";
import { endpointLogs } from "../api/onlineEndpoints";
import type { Endpoint } from "../api/types";
import { ErrorMessage, Loading } from "../components/Feedback";
import { useResource } from "../hooks/useResource";
import { DeploymentSelect } from "./DeploymentSelect";

export function LogsPanel({ endpoint }: { endpoint: Endpoint }) {
  const [deployment, setDeployment] = useState("");
  const logs = useResource(
    (signal) => endpointLogs(endpoint.name, deployment || undefined, signal),
    `${endpoint.name}/${deployment}`,
  );
  return (
    <section className="panel" aria-labelledby="logs-title" id="logs">
      <h2 id="logs-title">Logs</h2>
      <div className="inline-form">
        <DeploymentSelect
          id="logs-deployment"
          deployments={endpoint.deployments}
          value={deployment}
          noneLabel="All"
          onChange={setDeployment}
        />
        <button type="button" onClick={logs.reload} disabled={logs.loading}>
          Refresh
        </button>
      </div>
      {logs.error && <ErrorMessage error={logs.error} onRetry={logs.reload} />}
      {logs.data === undefined ? (
        logs.loading && <Loading what="the logs" />
      ) : (
        <pre className="code-block log-tail" id="logs-text" tabIndex={0} aria-label="Log tail">
          {logs.data || "Nothing logged yet."}
        </pre>
      )}
    </section>
  );
}
