// The workspace's computes: state, size, priority, nodes in use and queue length.
import { computeDetails, listComputes } from "../api/endpoints";
import type { ComputeDetails } from "../api/types";
import { ComputesTable } from "../components/ComputesTable";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { useResource } from "../hooks/useResource";

export async function computesWithUse(signal: AbortSignal): Promise<ComputeDetails[]> {
  const computes = await listComputes(signal);
  return Promise.all(computes.map((compute) => computeDetails(compute.name, signal)));
}

export function ComputesPage() {
  const computes = useResource(computesWithUse, "computes");
  return (
    <>
      <PageTitle>Computes</PageTitle>
      {computes.error && <ErrorMessage error={computes.error} onRetry={computes.reload} />}
      {computes.data === undefined ? (
        computes.loading && <Loading what="computes" />
      ) : (
        <ComputesTable computes={computes.data} id="computes" />
      )}
    </>
  );
}
