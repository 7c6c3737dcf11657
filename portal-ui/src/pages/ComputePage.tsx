// One compute: its settings and size, the runs holding its nodes, and its queue in order with
// each run's reason to wait.
import { Link, useParams } from "react-router";
import { computeDetails, listComputeSizes } from "../api/endpoints";
import type { ComputeDetails, ComputeSize, Run } from "../api/types";
import { type Fact, Facts } from "../components/Facts";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime, runLabel } from "../format";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";

const REFRESH_MS = 3000;

export function ComputePage() {
  const { name = "" } = useParams();
  const compute = useResource((signal) => computeDetails(name, signal), name);
  const sizes = useResource(listComputeSizes, "sizes");
  // Nodes free and queued runs start while the page is open.
  useInterval(compute.reload, REFRESH_MS);
  if (compute.data === undefined) {
    return compute.error ? (
      <ErrorMessage error={compute.error} onRetry={compute.reload} />
    ) : (
      <Loading what="the compute" />
    );
  }
  const details = compute.data;
  const size = sizes.data?.find((known) => known.name.toLowerCase() === details.size?.toLowerCase());
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/computes">Computes</Link>
      </p>
      <PageTitle>{`Compute ${details.name}`}</PageTitle>
      <ComputeFacts compute={details} size={size} />
      <RunList title="Running" runs={details.running} empty="No run holds a node." />
      <RunList title="Queue" runs={details.queue} empty="Nothing is queued." ordered />
    </>
  );
}

function ComputeFacts({ compute, size }: { compute: ComputeDetails; size: ComputeSize | undefined }) {
  const facts: Fact[] = [
    ["State", compute.state],
    ["Type", compute.type],
    ["Size", compute.size ?? "—"],
    ["Resources", size ? `${size.vcpus} vCPUs, ${size.memory_gib} GiB, ${size.gpus} GPUs` : "—"],
    ["Priority", compute.priority],
    ["Nodes", `${compute.nodes_in_use} in use of ${compute.max_nodes ?? "∞"} (min ${compute.min_nodes})`],
    ["Created", formatTime(compute.created_at)],
    ...(compute.address ? [["Address", compute.address] as [string, string]] : []),
    ...(compute.description ? [["Description", compute.description] as [string, string]] : []),
  ];
  return (
    <section className="panel" aria-label="Compute">
      {compute.errors.map((error) => (
        <p className="alert" key={error}>
          {error}
        </p>
      ))}
      <Facts facts={facts} />
    </section>
  );
}

interface RunListProps {
  title: string;
  runs: Run[];
  empty: string;
  ordered?: boolean;
}

function RunList({ title, runs, empty, ordered = false }: RunListProps) {
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {runs.length === 0 ? (
        <p className="empty">{empty}</p>
      ) : (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                {ordered && <th scope="col">Place</th>}
                <th scope="col">Run</th>
                <th scope="col">Experiment</th>
                <th scope="col">Status</th>
                <th scope="col">Attempt</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run, index) => (
                <tr key={run.id}>
                  {ordered && <td>{index + 1}</td>}
                  <td>
                    <Link to={`/runs/${encodeURIComponent(run.id)}`}>{runLabel(run)}</Link>
                  </td>
                  <td>{run.experiment}</td>
                  <td>
                    <StatusBadge status={run.status} />
                  </td>
                  <td>{run.attempt}</td>
                  <td>{run.status_detail ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
