// An endpoint's deployments: the model version each serves (linked to its page) and the alias it
// follows, its state with the reason a deploy or an update failed, what runs, and its resources.
import { Link } from "react-router";
import type { Deployment, Endpoint } from "../api/types";
import { formatTime } from "../format";
import { modelPath } from "../models/shaping";
import { DeploymentStateBadge, HealthBadge } from "./badges";
import { deployedModel, deploymentHealth } from "./shaping";

export function DeploymentsTable({ endpoint }: { endpoint: Endpoint }) {
  return (
    <section className="panel" aria-labelledby="deployments-title">
      <h2 id="deployments-title">Deployments</h2>
      {endpoint.deployments.length === 0 ? (
        <p className="empty">No deployment yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="deployments">
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Model</th>
                <th scope="col">State</th>
                <th scope="col">Health</th>
                <th scope="col" className="numeric">
                  Replicas
                </th>
                <th scope="col">Compute</th>
                <th scope="col">Created</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {endpoint.deployments.map((deployment) => (
                <tr key={deployment.name} data-deployment={deployment.name}>
                  <td>{deployment.name}</td>
                  <td>
                    <ModelCell deployment={deployment} />
                  </td>
                  <td className="state-cell">
                    <DeploymentStateBadge state={deployment.state} />
                    {deployment.error && <DeploymentError error={deployment.error} />}
                  </td>
                  <td>
                    <HealthBadge health={deploymentHealth(endpoint, deployment)} />
                  </td>
                  <td className="numeric">{deployment.replicas}</td>
                  <td>{resources(deployment)}</td>
                  <td>{formatTime(deployment.created_at)}</td>
                  <td>{formatTime(deployment.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ModelCell({ deployment }: { deployment: Deployment }) {
  const model = deployedModel(deployment);
  return (
    <span className="version-cell">
      <Link to={modelPath(model.name, model.version)} data-field="model">
        {deployment.resolved_model}
      </Link>
      {model.alias && (
        <span className="badge badge-alias" title={`Rolls to the version ${model.alias} points at`}>
          follows {model.alias}
        </span>
      )}
    </span>
  );
}

/** The first line in the table; a traceback under it, opened on demand. */
function DeploymentError({ error }: { error: string }) {
  const [first = "", ...rest] = error.split("\n");
  return (
    <div className="deployment-error" data-field="error">
      <span className="error-text">{first}</span>
      {rest.length > 0 && (
        <details>
          <summary>Details</summary>
          <pre className="code-block">{rest.join("\n")}</pre>
        </details>
      )}
    </div>
  );
}

/** Each replica's share: the target and its CPU cores and memory. */
function resources(deployment: Deployment): string {
  return `${deployment.compute} · ${String(deployment.cpu_cores)} CPU · ${String(deployment.memory_gb)} GB`;
}
