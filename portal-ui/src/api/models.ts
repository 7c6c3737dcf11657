// The model registry's routes (server/routes/models.py) over the generated client: reads for
// the models pages, and the changes a contributor makes there (aliases, tags, properties). A
// reader's change is refused by the server, whose one line the page shows.
import { answerOf, api } from "./client";
import type { ModelAlias, ModelVersion, RegisteredModel } from "./types";

export function listModels(signal?: AbortSignal): Promise<RegisteredModel[]> {
  return answerOf(api.GET("/api/v1/models", { signal }));
}

export function getModel(name: string, signal?: AbortSignal): Promise<RegisteredModel> {
  return answerOf(api.GET("/api/v1/models/{name}", { params: { path: { name } }, signal }));
}

/** Newest first. */
export function listVersions(name: string, signal?: AbortSignal): Promise<ModelVersion[]> {
  return answerOf(api.GET("/api/v1/models/{name}/versions", { params: { path: { name } }, signal }));
}

export function getVersion(name: string, version: string, signal?: AbortSignal): Promise<ModelVersion> {
  return answerOf(
    api.GET("/api/v1/models/{name}/versions/{version}", { params: { path: { name, version } }, signal }),
  );
}

/** The versions registered from run `runId`, by name and version. */
export function runModelVersions(runId: string, signal?: AbortSignal): Promise<ModelVersion[]> {
  return answerOf(api.GET("/api/v1/model-versions", { params: { query: { run_id: runId } }, signal }));
}

/** Point `name@alias` at `version` (moving it if it pointed elsewhere). */
export function setAlias(name: string, alias: string, version: number): Promise<ModelAlias> {
  return answerOf(
    api.PUT("/api/v1/models/{name}/aliases/{alias}", {
      params: { path: { name, alias } },
      body: { version },
    }),
  );
}

export function deleteAlias(name: string, alias: string): Promise<ModelAlias> {
  return answerOf(api.DELETE("/api/v1/models/{name}/aliases/{alias}", { params: { path: { name, alias } } }));
}

export interface VersionChange {
  set_tags?: Record<string, string>;
  delete_tags?: string[];
  add_properties?: Record<string, string>;
}

export function updateVersion(name: string, version: number, change: VersionChange): Promise<ModelVersion> {
  return answerOf(
    api.PATCH("/api/v1/models/{name}/versions/{version}", {
      params: { path: { name, version: String(version) } },
      body: change,
    }),
  );
}

/** A version's address in the API, under which its files download (`FilesTable`). */
export function modelVersionUrl(name: string, version: number): string {
  return `/api/v1/models/${encodeURIComponent(name)}/versions/${String(version)}`;
}
