import { Link } from "react-router";
import { listExperiments } from "../api/endpoints";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";

export function ExperimentsPage() {
  const experiments = useResource(listExperiments, "experiments");
  return (
    <>
      <PageTitle>Experiments</PageTitle>
      {experiments.error && <ErrorMessage error={experiments.error} onRetry={experiments.reload} />}
      {experiments.data === undefined ? (
        experiments.loading && <Loading what="experiments" />
      ) : experiments.data.length === 0 ? (
        <p className="empty">No experiments yet: submit a job or log a run to start one.</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="experiments">
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col" className="numeric">
                  Runs
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {experiments.data.map((experiment) => (
                <tr key={experiment.id}>
                  <td>
                    <Link to={`/runs?experiment=${encodeURIComponent(experiment.name)}`}>
                      {experiment.name}
                    </Link>
                  </td>
                  <td className="numeric">{experiment.run_count}</td>
                  <td>{formatTime(experiment.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
