// The registered models: name, latest version, how many versions, aliases, framework and when
// each last changed, narrowed by a filter on the name, framework or an alias.
import { useState } from "react";
import { Link } from "react-router";
import { listModels } from "../api/models";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";
import { ModelAliasBadges } from "../models/AliasBadges";
import { filterModels, modelPath } from "../models/shaping";

export function ModelsPage() {
  const models = useResource(listModels, "models");
  const [filter, setFilter] = useState("");
  const shown = filterModels(models.data ?? [], filter);
  return (
    <>
      <PageTitle>Models</PageTitle>
      {models.error && <ErrorMessage error={models.error} onRetry={models.reload} />}
      <div className="filters">
        <label>
          Filter{" "}
          <input
            type="text"
            id="model-filter"
            value={filter}
            placeholder="name, framework or alias"
            onChange={(event) => {
              setFilter(event.target.value);
            }}
          />
        </label>
      </div>
      {models.data === undefined ? (
        models.loading && <Loading what="models" />
      ) : models.data.length === 0 ? (
        <p className="empty">
          No model is registered yet: register one with <code>modelyard model register</code>.
        </p>
      ) : shown.length === 0 ? (
        <p className="empty">No model matches “{filter}”.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="models">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="numeric">
                  Latest
                </th>
                <th scope="col" className="numeric">
                  Versions
                </th>
                <th scope="col">Aliases</th>
                <th scope="col">Framework</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((model) => (
                <tr key={model.name} data-model={model.name}>
                  <td>
                    <Link to={modelPath(model.name)}>{model.name}</Link>
                  </td>
                  <td className="numeric">
                    {model.latest_version === null ? (
                      "—"
                    ) : (
                      <Link
                        to={modelPath(model.name, model.latest_version)}
                        aria-label={`v${String(model.latest_version)} of ${model.name}`}
                      >
                        v{model.latest_version}
                      </Link>
                    )}
                  </td>
                  <td className="numeric">{model.version_count}</td>
                  <td>
                    <ModelAliasBadges aliases={model.aliases} />
                  </td>
                  <td>{model.framework ?? "—"}</td>
                  <td>{formatTime(model.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
