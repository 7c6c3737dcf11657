// The online endpoints: each one's scoring URI, traffic split, deployments with their states,
// and whether its front and its replicas run. Read again every few seconds: a deployment under way settles.
import { Link } from "react-router";
import { listEndpoints } from "../api/onlineEndpoints";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { DeploymentStateBadge, HealthBadge } from "../endpoints/badges";
import { endpointPath, frontHealth, replicasSummary, trafficSummary } from "../endpoints/shaping";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import "../endpoints/endpoints.css";

const REFRESH_MS = 5000;

export function EndpointsPage() {
  const endpoints = useResource(listEndpoints, "endpoints");
  useInterval(endpoints.reload, REFRESH_MS);
  return (
    <>
      <PageTitle>Endpoints</PageTitle>
      {endpoints.error && <ErrorMessage error={endpoints.error} onRetry={endpoints.reload} />}
      {endpoints.data === undefined ? (
        endpoints.loading && <Loading what="endpoints" />
      ) : endpoints.data.length === 0 ? (
        <p className="empty">
          No endpoint yet: deploy a registered model with <code>modelyard deploy</code>.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="endpoints">
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Scoring URI</th>
                <th scope="col">Traffic</th>
                <th scope="col">Deployments</th>
                <th scope="col">Health</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.data.map((endpoint) => (
                <tr key={endpoint.name} data-endpoint={endpoint.name}>
                  <td>
                    <Link to={endpointPath(endpoint.name)}>{endpoint.name}</Link>
                  </td>
                  <td>
                    <code className="uri">{endpoint.scoring_uri}</code>
                  </td>
                  <td data-field="traffic">{trafficSummary(endpoint)}</td>
                  <td>
                    {endpoint.deployments.length === 0 ? (
                      "—"
                    ) : (
                      <ul className="badge-list">
                        {endpoint.deployments.map((deployment) => (
                          <li key={deployment.name} data-deployment={deployment.name}>
                            {deployment.name} <DeploymentStateBadge state={deployment.state} />
                          </li>
                        ))}
                      </ul>
                    )}
                  </td>
                  <td>
                    <span className="health-cell">
                      <HealthBadge health={frontHealth(endpoint)} />
                      <HealthBadge health={replicasSummary(endpoint)} />
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
