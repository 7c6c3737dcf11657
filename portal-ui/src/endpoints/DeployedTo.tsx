// Where a model version serves: each endpoint deployment made from it, linked to the endpoint.
import { Link } from "react-router";
import { listEndpoints } from "../api/onlineEndpoints";
import { useResource } from "../hooks/useResource";
import { deploymentsServing, endpointPath } from "./shaping";

export function DeployedTo({ reference }: { reference: string }) {
  const endpoints = useResource(listEndpoints, "endpoints");
  if (endpoints.data === undefined) return <>{endpoints.error ? "—" : "…"}</>;
  const serving = deploymentsServing(endpoints.data, reference);
  if (serving.length === 0) return <>Not deployed</>;
  return (
    <ul className="badge-list" id="deployed-to">
      {serving.map(({ endpoint, deployment }) => (
        <li key={`${endpoint}/${deployment}`}>
          <Link to={endpointPath(endpoint)}>
            {endpoint} ({deployment})
          </Link>
        </li>
      ))}
    </ul>
  );
}
