// What the data pages make of the data routes' answers: a version's lineage as a tree: each run
// that read it, the model versions registered from that run, the deployments serving each.
import type { DataLineage } from "../api/types";

type LineageRun = DataLineage["runs"][number];
type LineageModel = DataLineage["models"][number];
type LineageDeployment = DataLineage["deployments"][number];

/** An asset's page, or one version's, in the app. */
export function dataPath(name: string, version?: number): string {
  const asset = `/data/${encodeURIComponent(name)}`;
  return version === undefined ? asset : `${asset}/${String(version)}`;
}

/** A content hash as the tables show it: enough to tell versions apart. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

export interface ModelBranch {
  model: LineageModel;
  deployments: LineageDeployment[];
}

export interface RunBranch {
  run: LineageRun;
  models: ModelBranch[];
}

/** The lineage as runs → their model versions → the deployments serving each. */
export function lineageTree(lineage: DataLineage): RunBranch[] {
  return lineage.runs.map((run) => ({
    run,
    models: lineage.models
      .filter((model) => model.run_id === run.run_id)
      .map((model) => ({
        model,
        deployments: lineage.deployments.filter(
          (deployment) => deployment.model === `${model.name}:${String(model.version)}`,
        ),
      })),
  }));
}
