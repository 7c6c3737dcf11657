// A stand-in for the browser's fetch in component tests: answers by URL path from a table the
// test fills, records what was asked. The API client (openapi-fetch) keeps the fetch it found
// when it was created, so a test installs this before its imports, with `vi.hoisted`:
//   const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());
export interface FakeFetch {
  answers: Map<string, () => Response>; // by path, or path?query for one query
  asked: string[]; // path?query of each request, in order
}

export function installFakeFetch(): FakeFetch {
  const fake: FakeFetch = { answers: new Map(), asked: [] };
  // Node's Request takes absolute URLs only; a browser's resolves "/api/…" against the page.
  const NodeRequest = globalThis.Request;
  globalThis.Request = class PageRequest extends NodeRequest {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === "string" ? new URL(input, "http://localhost") : input, init);
    }
  };
  globalThis.fetch = (input: RequestInfo | URL) => {
    const raw = input instanceof Request ? input.url : String(input);
    const url = new URL(raw, "http://localhost");
    const full = url.pathname + url.search;
    fake.asked.push(decodeURIComponent(full));
    const answer = fake.answers.get(decodeURIComponent(full)) ?? fake.answers.get(decodeURIComponent(url.pathname));
    return Promise.resolve(
      answer ? answer() : Response.json({ code: "NOT_FOUND", message: `no ${url.pathname}` }, { status: 404 }),
    );
  };
  return fake;
}

export function jsonAnswer(value: unknown): () => Response {
  return () => Response.json(value);
}

export function bytesAnswer(body: string | Uint8Array<ArrayBuffer>): () => Response {
  return () => {
    const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
    return new Response(bytes, { headers: { "Content-Length": String(bytes.byteLength) } });
  };
}
