// The data asset versions this run read, as one line of links (nothing when it read none).
import { Link } from "react-router";
import { runInputs } from "../api/data";
import { dataPath } from "../data/shaping";
import { useResource } from "../hooks/useResource";

export function RunInputs({ runId }: { runId: string }) {
  // Read once: a run's inputs are recorded when it is submitted.
  const inputs = useResource((signal) => runInputs(runId, signal), runId);
  if (!inputs.data?.length) return null;
  return (
    <p className="registered-models" id="run-inputs">
      Data read:{" "}
      {inputs.data.map((input, index) => (
        <span key={input.input_name}>
          {index > 0 && ", "}
          {input.input_name} ← <Link to={dataPath(input.name, input.version)}>{input.reference}</Link>
        </span>
      ))}
    </p>
  );
}
