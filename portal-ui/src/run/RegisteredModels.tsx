// The model versions registered from this run, as one line of links (nothing when none was).
import { Link } from "react-router";
import { runModelVersions } from "../api/models";
import { useResource } from "../hooks/useResource";
import { modelPath } from "../models/shaping";

export function RegisteredModels({ runId }: { runId: string }) {
  // Read once: a registration is rare beside the run page's own refreshes.
  const versions = useResource((signal) => runModelVersions(runId, signal), runId);
  if (!versions.data?.length) return null;
  return (
    <p className="registered-models" id="registered-models">
      Registered models:{" "}
      {versions.data.map((version, index) => (
        <span key={version.reference}>
          {index > 0 && ", "}
          <Link to={modelPath(version.name, version.version)}>{version.reference}</Link>
        </span>
      ))}
    </p>
  );
}
