// A deployment's state and what runs, as badges: the colour says the kind, the text says it all.
import type { DeploymentState } from "../api/types";
import { type Health, STATE_TONE } from "./shaping";

export function DeploymentStateBadge({ state }: { state: DeploymentState }) {
  return (
    <span className={`badge badge-${STATE_TONE[state]}`} data-field="state">
      {state}
    </span>
  );
}

export function HealthBadge({ health }: { health: Health }) {
  return (
    <span className={`badge badge-${health.tone}`} data-field="health">
      {health.label}
    </span>
  );
}
