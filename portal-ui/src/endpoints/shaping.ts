// What the endpoint pages make of the server's answers: a deployment's model as a version and
// the alias it follows, the traffic as shares, what runs against what should, a ModelOutput's
// scores in order, and which deployments serve a model version.
import type { Deployment, Endpoint, ModelOutput } from "../api/types";

/** An endpoint's page in the app. */
export function endpointPath(name: string): string {
  return `/endpoints/${encodeURIComponent(name)}`;
}

export interface DeployedModel {
  name: string;
  version: number;
  alias: string | null; // the alias it follows (`NAME@ALIAS`): it rolls when the alias moves
}

/** The version a deployment serves (`resolved_model`, NAME:VERSION) and the alias it was
 * deployed from, if any (model names hold neither ':' nor '@'). */
export function deployedModel(deployment: Deployment): DeployedModel {
  const at = deployment.resolved_model.lastIndexOf(":");
  const alias = deployment.model.lastIndexOf("@");
  return {
    name: deployment.resolved_model.slice(0, at),
    version: Number(deployment.resolved_model.slice(at + 1)),
    alias: alias >= 0 ? deployment.model.slice(alias + 1) : null,
  };
}

/** Whether a deployment's replicas take requests (an update's old ones serve until it ends). */
export function isServing(deployment: Deployment): boolean {
  return deployment.state === "Succeeded" || deployment.state === "Updating";
}

export interface TrafficShare {
  deployment: string;
  percent: number;
  mirror: boolean; // a copy of this share of requests, whose answers are dropped
}

/** Each deployment's live share (0 for one that takes none), then the mirror's, if any. */
export function trafficShares(endpoint: Endpoint): TrafficShare[] {
  const live = endpoint.deployments
    .filter((deployment) => !(deployment.name in endpoint.mirror_traffic))
    .map((deployment) => ({
      deployment: deployment.name,
      percent: endpoint.traffic[deployment.name] ?? 0,
      mirror: false,
    }));
  const mirrors = Object.entries(endpoint.mirror_traffic).map(([deployment, percent]) => ({
    deployment,
    percent,
    mirror: true,
  }));
  return [...live, ...mirrors];
}

/** One line for the list: `blue 90% · green 10%`, or that nothing takes traffic. */
export function trafficSummary(endpoint: Endpoint): string {
  const shares = Object.entries(endpoint.traffic).filter(([, percent]) => percent > 0);
  if (shares.length === 0) return "none yet";
  return shares.map(([deployment, percent]) => `${deployment} ${String(percent)}%`).join(" · ");
}

export type Tone = "good" | "bad" | "warn" | "live" | "neutral";

export interface Health {
  label: string;
  tone: Tone;
}

/** What runs of a deployment, against what its state says should. */
export function deploymentHealth(endpoint: Endpoint, deployment: Deployment): Health {
  const running = endpoint.health.replicas_running[deployment.name] ?? 0;
  if (deployment.state === "Failed") return { label: "not serving", tone: "bad" };
  const health = replicaHealth(running, wantedReplicas(deployment));
  return isServing(deployment) ? health : { ...health, tone: "live" }; // still starting
}

/** The endpoint's front (the process behind its scoring URI). */
export function frontHealth(endpoint: Endpoint): Health {
  return endpoint.health.front_running
    ? { label: "Front running", tone: "good" }
    : { label: "Front down", tone: "bad" };
}

/** The replicas of all serving deployments together. */
export function replicasSummary(endpoint: Endpoint): Health {
  const serving = endpoint.deployments.filter(isServing);
  const wanted = serving.map(wantedReplicas).reduce(
    (sum, each) => ({ least: sum.least + each.least, most: sum.most + each.most }),
    { least: 0, most: 0 },
  );
  const running = serving.reduce((sum, d) => sum + (endpoint.health.replicas_running[d.name] ?? 0), 0);
  return replicaHealth(running, wanted);
}

/** How many replicas a deployment should have: a fixed number, or autoscaling's bounds. */
interface Wanted {
  least: number;
  most: number;
}

// The server's default lower bound when only --max-replicas was given (DEFAULT_MIN_REPLICAS).
const DEFAULT_MIN_REPLICAS = 1;

function wantedReplicas(deployment: Deployment): Wanted {
  if (deployment.max_replicas === null) return { least: deployment.replicas, most: deployment.replicas };
  return { least: deployment.min_replicas ?? DEFAULT_MIN_REPLICAS, most: deployment.max_replicas };
}

function replicaHealth(running: number, wanted: Wanted): Health {
  // An autoscaled deployment runs anywhere between its bounds: "2/1" would read as too many.
  const label =
    wanted.least === wanted.most
      ? `${String(running)}/${String(wanted.most)} replicas running`
      : `${String(running)} replicas running (autoscaling ${String(wanted.least)}–${String(wanted.most)})`;
  if (wanted.most === 0) return { label, tone: "neutral" };
  if (running >= wanted.least) return { label, tone: "good" };
  return { label, tone: running === 0 ? "bad" : "warn" };
}

export const STATE_TONE: Record<Deployment["state"], Tone> = {
  Creating: "live",
  Updating: "live",
  Succeeded: "good",
  Failed: "bad",
  Deleting: "neutral",
};

/** A ModelOutput (an image classifier's answer), or null for any other JSON. */
export function asModelOutput(body: unknown): ModelOutput | null {
  if (typeof body !== "object" || body === null) return null;
  const { Prediction: prediction, Score: score } = body as Record<string, unknown>;
  if (typeof prediction !== "string" || typeof score !== "object" || score === null) return null;
  const scores = Object.values(score as Record<string, unknown>);
  return scores.every((value) => typeof value === "number") ? (body as ModelOutput) : null;
}

export interface ScoreRow {
  label: string;
  score: number;
  percent: string; // 87.5%
}

/** Labels from the most likely down. */
export function scoreRows(output: ModelOutput): ScoreRow[] {
  return Object.entries(output.Score)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([label, score]) => ({ label, score, percent: formatShare(score) }));
}

export function formatShare(score: number): string {
  return `${(Math.max(0, Math.min(1, score)) * 100).toFixed(1)}%`;
}

export interface Serving {
  endpoint: string;
  deployment: string;
}

/** The deployments that serve `reference` (NAME:VERSION), by endpoint. */
export function deploymentsServing(endpoints: Endpoint[], reference: string): Serving[] {
  return endpoints.flatMap((endpoint) =>
    endpoint.deployments
      .filter((deployment) => deployment.resolved_model === reference && isServing(deployment))
      .map((deployment) => ({ endpoint: endpoint.name, deployment: deployment.name })),
  );
}

/** What a test request sends by default: JSON when every deployment runs an entry script,
 * else an image (the no-code image scorer takes one). */
export function defaultInputKind(endpoint: Endpoint): "image" | "json" {
  const scripts = endpoint.deployments.filter((deployment) => deployment.entry_script !== null);
  return endpoint.deployments.length > 0 && scripts.length === endpoint.deployments.length ? "json" : "image";
}
