// The portal's first page: the workspace and its server, how many runs are in each status, the
// latest runs, and the computes with their state and queue. It fits the window at any width:
// panels stack on a narrow one and tables scroll inside their own box.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { listExperiments } from "../api/endpoints";
import { ComputesTable } from "../components/ComputesTable";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatTime, runDurationS } from "../format";
import { useResource } from "../hooks/useResource";
import type { Resource } from "../hooks/useResource";
import {
  readRecentRuns,
  readStatusCounts,
  readWorkspace,
  type StatusCount,
  type Workspace,
} from "../overview/reads";
import "../overview/overview.css";
import { RunNameCell, TimeCell } from "../runs/cells";
import { computesWithUse } from "./ComputesPage";

export default function OverviewPage() {
  const workspace = useResource(readWorkspace, "workspace");
  const counts = useResource(readStatusCounts, "status-counts");
  const experiments = useResource(listExperiments, "experiments");
  return (
    <>
      <PageTitle>{workspace.data ? `Workspace ${workspace.data.name}` : "Overview"}</PageTitle>
      <Pending resource={workspace} what="the workspace">
        {(found) => <WorkspaceFacts workspace={found} />}
      </Pending>
      <Pending resource={counts} what="run counts">
        {(found) => <StatusTiles counts={found} experiments={experiments.data?.length} />}
      </Pending>
      <div className="overview-columns">
        <RecentRuns />
        <Computes />
      </div>
    </>
  );
}

interface PendingProps<T> {
  resource: Resource<T>;
  what: string;
  children: (data: T) => ReactNode;
}

/** The data once read; meanwhile a loading line, or the error with a retry. */
function Pending<T>({ resource, what, children }: PendingProps<T>) {
  if (resource.error) return <ErrorMessage error={resource.error} onRetry={resource.reload} />;
  if (resource.data === undefined) return <Loading what={what} />;
  return <>{children(resource.data)}</>;
}

function WorkspaceFacts({ workspace }: { workspace: Workspace }) {
  return (
    <section className="panel" aria-labelledby="workspace-title" id="workspace">
      <h2 id="workspace-title">Workspace and server</h2>
      <dl className="facts">
        <div>
          <dt>Location</dt>
          <dd>{workspace.location}</dd>
        </div>
        <div>
          <dt>Resource group</dt>
          <dd>{workspace.resource_group}</dd>
        </div>
        <div>
          <dt>Server</dt>
          <dd>{workspace.server_url ?? window.location.origin}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatTime(workspace.created_at)}</dd>
        </div>
        <div className="wide-fact">
          <dt>Folder</dt>
          <dd>
            <code>{workspace.path}</code>
          </dd>
        </div>
      </dl>
    </section>
  );
}

function StatusTiles({ counts, experiments }: { counts: StatusCount[]; experiments?: number }) {
  const total = counts.reduce((sum, { count }) => sum + count, 0);
  return (
    <section aria-label="Runs by status">
      <ul className="tiles" id="status-counts">
        <li className="tile">
          <Link to="/experiments">
            <span className="tile-value">{experiments ?? "…"}</span>
            <span className="tile-label">Experiments</span>
          </Link>
        </li>
        <li className="tile">
          <Link to="/runs">
            <span className="tile-value" data-status="all">
              {total.toLocaleString()}
            </span>
            <span className="tile-label">Runs</span>
          </Link>
        </li>
        {counts
          .filter(({ count }) => count > 0)
          .map(({ status, count }) => (
            <li className="tile" key={status}>
              <Link to={`/runs?status=${status}`}>
                <span className="tile-value" data-status={status}>
                  {count.toLocaleString()}
                </span>
                <span className="tile-label">
                  <StatusBadge status={status} />
                </span>
              </Link>
            </li>
          ))}
      </ul>
    </section>
  );
}

function RecentRuns() {
  const page = useResource(readRecentRuns, "recent-runs");
  return (
    <section className="panel" aria-labelledby="recent-title">
      <h2 id="recent-title">Recent runs</h2>
      <Pending resource={page} what="recent runs">
        {(found) =>
          found.runs.length === 0 ? (
            <p className="empty">No runs yet.</p>
          ) : (
            <div className="table-wrap">
              <table className="data-table compact-table" id="recent-runs">
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {found.runs.map((run) => (
                    <tr key={run.id} data-run-id={run.id}>
                      <td>
                        <RunNameCell run={run} withExperiment />
                      </td>
                      <td>
                        <StatusBadge status={run.status} />
                      </td>
                      <td>
                        <TimeCell iso={run.created_at} />
                      </td>
                      <td className="nowrap">
                        {formatDuration(runDurationS(run.started_at, run.ended_at))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Pending>
      <p>
        <Link to="/runs">All runs →</Link>
      </p>
    </section>
  );
}

function Computes() {
  const computes = useResource(computesWithUse, "computes");
  return (
    <section className="panel" aria-labelledby="computes-title">
      <h2 id="computes-title">Computes</h2>
      <Pending resource={computes} what="computes">
        {(found) => (
          <ComputesTable computes={found} id="overview-computes" compact />
        )}
      </Pending>
    </section>
  );
}
