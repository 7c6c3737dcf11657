// The one client of the server's REST API: typed by the generated `schema.d.ts`, authenticated
// by the portal's login cookie (same origin), with the header that lets that cookie change
// something (server/deps.py) on every request.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

export const PORTAL_HEADER = "X-Modelyard-Portal";
export const LOGIN_PATH = "/login";

/** The login page (server-rendered), coming back to `path` once logged in. */
export function loginUrl(path: string): string {
  return `${LOGIN_PATH}?next=${encodeURIComponent(path)}`;
}

const portalSession: Middleware = {
  onRequest({ request }) {
    request.headers.set(PORTAL_HEADER, "1");
    return request;
  },
  onResponse({ response }) {
    // The login ended (expired or revoked token): log in again and come back here.
    if (response.status === 401) {
      window.location.assign(loginUrl(window.location.pathname + window.location.search));
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(portalSession);

/** The server's error, `{code, message, context}` (server/errors.py), as an exception. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  static from(status: number, body: unknown): ApiError {
    if (typeof body === "object" && body !== null && "message" in body) {
      const { code, message } = body as { code?: unknown; message?: unknown };
      const text = typeof message === "string" ? message : `the server answered ${status}`;
      return new ApiError(status, typeof code === "string" ? code : "ERROR", text);
    }
    return new ApiError(status, "ERROR", `the server answered ${status}`);
  }
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/** The answer's body as `T`, or its error thrown as an `ApiError`. */
export async function answerOf<T>(call: Promise<Answer>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    throw ApiError.from(response.status, error);
  }
  // The routes answer `dict[str, Any]` until their response models land (issue 13): the
  // shapes in types.ts are what they send today.
  return data as T;
}
