// A choice of one of an endpoint's deployments, or none in particular ("" and `noneLabel`).
import type { Deployment } from "../api/types";

interface Props {
  id: string;
  deployments: Deployment[];
  value: string;
  noneLabel: string;
  onChange: (deployment: string) => void;
}

export function DeploymentSelect({ id, deployments, value, noneLabel, onChange }: Props) {
  return (
    <label className="stacked">
      Deployment
      <select
        id={id}
        value={value}
        onChange={(event) => {
          onChange(event.target.value);
        }}
      >
        <option value="">{noneLabel}</option>
        {deployments.map((deployment) => (
          <option key={deployment.name} value={deployment.name}>
            {deployment.name}
          </option>
        ))}
      </select>
    </label>
  );
}
