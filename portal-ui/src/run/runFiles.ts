// A run's files over the REST API: the artifact listing, an artifact's URL (for <img> and
// download links: the login cookie authenticates reads), the beginning of an artifact as text,
// and a piece of a log. Artifacts are read with a byte limit: a preview never downloads a
// 2 GB checkpoint to show its first lines.
import { answerOf, api, ApiError, PORTAL_HEADER } from "../api/client";

export interface ArtifactEntry {
  path: string;
  size: number;
}

export interface ArtifactHead {
  text: string;
  bytes: Uint8Array;
  truncated: boolean; // the file goes on past what was read
  size: number | null; // the whole file's size, when the server said it
}

export function listArtifacts(runId: string, signal?: AbortSignal): Promise<ArtifactEntry[]> {
  return answerOf(
    api.GET("/api/v1/runs/{run_id}/artifacts", { params: { path: { run_id: runId } }, signal }),
  );
}

/** The artifact's bytes at the API: each segment encoded once, as the route asks. */
export function artifactUrl(runId: string, path: string): string {
  const segments = path.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${segments}`;
}

/** At most `maxBytes` from the start of the artifact (the rest is not downloaded). */
export async function readArtifactHead(
  runId: string,
  path: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<ArtifactHead> {
  const response = await fetch(artifactUrl(runId, path), {
    credentials: "same-origin",
    headers: { [PORTAL_HEADER]: "1" },
    signal,
  });
  if (!response.ok) throw ApiError.from(response.status, await bodyOf(response));
  const length = response.headers.get("Content-Length");
  const { bytes, truncated } = await readUpTo(response, maxBytes);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return { text, bytes, truncated, size: length === null ? null : Number(length) };
}

/** The artifact parsed as JSON; an unreadable or over-large file is an error saying so. */
export async function readArtifactJson(
  runId: string,
  path: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const head = await readArtifactHead(runId, path, maxBytes, signal);
  if (head.truncated) {
    throw new Error(`${path} is larger than ${formatSize(maxBytes)}: download it to read it`);
  }
  try {
    return JSON.parse(head.text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${path} is not valid JSON (${reason})`, { cause: error });
  }
}

async function readUpTo(
  response: Response,
  maxBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (response.body === null) return { bytes: new Uint8Array(), truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total <= maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
  }
  const truncated = total > maxBytes;
  if (truncated) await reader.cancel(); // the rest is not wanted: stop the download
  const bytes = new Uint8Array(Math.min(total, maxBytes));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.byteLength, bytes.byteLength - at));
    bytes.set(part, at);
    at += part.byteLength;
  }
  return { bytes, truncated };
}

async function bodyOf(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

export interface LogPiece {
  text: string;
  offset: number; // where the next read starts
}

/** The log `path` from byte `offset` (at most 1 MiB a read). */
export function readLog(
  runId: string,
  path: string,
  offset: number,
  signal?: AbortSignal,
): Promise<LogPiece> {
  return answerOf(
    api.GET("/api/v1/runs/{run_id}/logs", {
      params: { path: { run_id: runId }, query: { path, offset } },
      signal,
    }),
  );
}

/** The live log's URL for an EventSource, starting at byte `offset`. */
export function logStreamUrl(runId: string, path: string, offset: number): string {
  const query = new URLSearchParams({ path, offset: String(offset) });
  return `/api/v1/runs/${encodeURIComponent(runId)}/logs/stream?${query.toString()}`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit] ?? "TiB"}`;
}

/** The folder a path is in ("" at the top), and a path joined onto a folder. */
export function folderOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "" : path.slice(0, cut);
}

export function joinPath(folder: string, relative: string): string {
  return folder ? `${folder}/${relative}` : relative;
}
