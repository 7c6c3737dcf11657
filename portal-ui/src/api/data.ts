// The data assets' routes (server/routes/data.py) over the generated client: the reads for the
// data pages and the run page's inputs.
import { answerOf, api } from "./client";
import type { DataAsset, DataLineage, DataManifestEntry, DataVersion, RunInput } from "./types";

export function listDataAssets(includeArchived: boolean, signal?: AbortSignal): Promise<DataAsset[]> {
  return answerOf(api.GET("/api/v1/data", { params: { query: { include_archived: includeArchived } }, signal }));
}

/** Newest first, archived ones too (the page marks them). */
export function listDataVersions(name: string, signal?: AbortSignal): Promise<DataVersion[]> {
  return answerOf(
    api.GET("/api/v1/data/{name}/versions", {
      params: { path: { name }, query: { include_archived: true } },
      signal,
    }),
  );
}

/** `version`: a number, or `latest`. */
export function getDataVersion(name: string, version: string, signal?: AbortSignal): Promise<DataVersion> {
  return answerOf(api.GET("/api/v1/data/{name}/versions/{version}", { params: { path: { name, version } }, signal }));
}

/** The version's files, sorted by path. */
export function dataManifest(name: string, version: string, signal?: AbortSignal): Promise<DataManifestEntry[]> {
  return answerOf(
    api.GET("/api/v1/data/{name}/versions/{version}/manifest", { params: { path: { name, version } }, signal }),
  );
}

/** The runs that read the version, the model versions registered from them, their deployments. */
export function dataLineage(name: string, version: string, signal?: AbortSignal): Promise<DataLineage> {
  return answerOf(
    api.GET("/api/v1/data/{name}/versions/{version}/lineage", { params: { path: { name, version } }, signal }),
  );
}

export function runInputs(runId: string, signal?: AbortSignal): Promise<RunInput[]> {
  return answerOf(api.GET("/api/v1/runs/{run_id}/inputs", { params: { path: { run_id: runId } }, signal }));
}

/** A version's address in the API, under which its files download (`FilesTable`). */
export function dataVersionUrl(name: string, version: number): string {
  return `/api/v1/data/${encodeURIComponent(name)}/versions/${String(version)}`;
}
