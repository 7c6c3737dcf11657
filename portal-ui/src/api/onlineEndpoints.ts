// The online endpoints' routes (server/routes/endpoints.py) over the generated client: reads for
// the endpoint pages, the keys a contributor asks for, and a test request the server sends to
// the endpoint with its key (the browser never holds a key for it, nor calls its port). A
// reader's request for keys is refused by the server, whose one line the page shows.
import { ApiError, answerOf, api } from "./client";
import type { Endpoint, EndpointKeys } from "./types";

export type KeyName = "primary" | "secondary";

export function listEndpoints(signal?: AbortSignal): Promise<Endpoint[]> {
  return answerOf(api.GET("/api/v1/endpoints", { signal }));
}

export function getEndpoint(name: string, signal?: AbortSignal): Promise<Endpoint> {
  return answerOf(api.GET("/api/v1/endpoints/{name}", { params: { path: { name } }, signal }));
}

export function listKeys(name: string): Promise<EndpointKeys> {
  return answerOf(api.POST("/api/v1/endpoints/{name}/list-keys", { params: { path: { name } } }));
}

/** A new key in place of `which`: the old one is refused from the endpoint's next request. */
export function regenerateKey(name: string, which: KeyName): Promise<EndpointKeys> {
  return answerOf(
    api.POST("/api/v1/endpoints/{name}/regen-key", {
      params: { path: { name } },
      body: { key_type: which },
    }),
  );
}

/** The tail of each replica's log (and the front's), headed by whose it is. */
export async function endpointLogs(name: string, deployment?: string, signal?: AbortSignal): Promise<string> {
  const query = deployment ? { deployment } : {};
  const logs = await answerOf<{ text: string }>(
    api.GET("/api/v1/endpoints/{name}/logs", { params: { path: { name }, query }, signal }),
  );
  return logs.text;
}

/** What a test request is: an image's bytes, or JSON text for an entry script. */
export type ScoringInput = { kind: "image"; file: Blob } | { kind: "json"; text: string };

export interface ScoringAnswer {
  body: unknown; // the deployment's JSON answer (its text when it is not JSON)
  deployment: string | null; // the deployment that answered
  requestId: string | null;
}

const OCTETS = "application/octet-stream";
const JSON_TYPE = "application/json";

/** Score `input` through the endpoint (pinned to `deployment`, else by its traffic split). A
 * refusal, the server's or the deployment's, is thrown as an ApiError naming its request id. */
export async function invokeEndpoint(
  name: string,
  input: ScoringInput,
  deployment?: string,
): Promise<ScoringAnswer> {
  const { data, error, response } = await api.POST("/api/v1/endpoints/{name}/invoke", {
    params: { path: { name }, query: deployment ? { deployment } : {} },
    body: input.kind === "image" ? input.file : input.text,
    // The body goes as it is: the image's bytes, or the JSON text the reader typed.
    bodySerializer: (body: unknown) => body as BodyInit,
    headers: { "Content-Type": input.kind === "image" ? OCTETS : JSON_TYPE },
    parseAs: "text",
  });
  const requestId = response.headers.get("x-request-id");
  if (!response.ok || data === undefined) throw withRequestId(ApiError.from(response.status, error), requestId);
  const isJson = (response.headers.get("content-type") ?? "").startsWith(JSON_TYPE);
  return {
    body: isJson ? (JSON.parse(data) as unknown) : data,
    deployment: response.headers.get("x-modelyard-deployment"),
    requestId,
  };
}

function withRequestId(error: ApiError, requestId: string | null): ApiError {
  if (!requestId || error.message.includes(requestId)) return error;
  return new ApiError(error.status, error.code, `${error.message} (request id ${requestId})`);
}
