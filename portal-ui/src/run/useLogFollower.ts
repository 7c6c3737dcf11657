// A run's log as React state. While the run goes on, the log comes live over server-sent
// events (GET …/logs/stream: `log` {text, offset} as it grows, `end` {status, offset} once the
// run has ended and all is out); an ended run's log is read once (GET …/logs). Both start at
// `startOffset`, the last TAIL_BYTES, and the reader may ask for earlier output a piece at a
// time. What is held is capped: past HELD_MAX_CHARS the oldest lines are let go, so a job
// printing for days never slows the page.
//
// Reconnecting: a dropped connection is resumed by the browser itself, which sends the last
// event's id (the byte offset after it) as Last-Event-ID; a stream the server refused or closed
// without an end is opened again after RECONNECT_MS from the last offset received.
import { useCallback, useEffect, useState } from "react";
import { asError } from "../hooks/useResource";
import { logStreamUrl, readLog } from "./runFiles";

export const TAIL_BYTES = 64 * 1024;
export const HELD_MAX_CHARS = 1_000_000;
export const RECONNECT_MS = 3000;
const ENDED_READS_MAX = 8; // 8 MiB: past that, the download link is the way

/** What the panel needs of an EventSource: a test gives a fake one. */
export interface LogEventSource {
  readonly readyState: number; // 0 connecting, 1 open, 2 closed
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}
export type OpenEventSource = (url: string) => LogEventSource;

const CLOSED = 2;

export const openBrowserEventSource: OpenEventSource = (url) => new EventSource(url);

export type Connection = "reading" | "connecting" | "open" | "reconnecting" | "waiting" | "done";

export interface LogState {
  text: string;
  start: number; // the byte offset `text` starts at (0: the log's beginning)
  ended: string | null; // the run's status once the log is complete
  connection: Connection;
  error: string | null;
}

export interface LogFollower extends LogState {
  loadingEarlier: boolean;
  showEarlier: () => void;
}

interface Options {
  runId: string;
  path: string;
  live: boolean; // read once: a run ending later ends the stream itself
  startOffset: number;
  openEventSource?: OpenEventSource;
}

export function useLogFollower({
  runId,
  path,
  live,
  startOffset,
  openEventSource = openBrowserEventSource,
}: Options): LogFollower {
  const [state, setState] = useState<LogState>(() => initialState(startOffset, live));
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  // Chosen once: the caller keys this hook's component by run and path.
  const [liveAtStart] = useState(live);

  useEffect(() => {
    if (!liveAtStart) return readEnded(runId, path, startOffset, setState);
    return follow(runId, path, startOffset, openEventSource, setState);
    // The log is chosen by run and path; a new offset or opener does not restart it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, path]);

  const showEarlier = useCallback(() => {
    const end = state.start;
    if (end === 0 || loadingEarlier) return;
    const from = Math.max(0, end - TAIL_BYTES);
    setLoadingEarlier(true);
    readLog(runId, path, from)
      .then((piece) => {
        const earlier = bytesUpTo(piece.text, end - from);
        setState((current) =>
          current.start === end
            ? { ...current, text: earlier + current.text, start: from }
            : current,
        );
      })
      .catch((error: unknown) => {
        setState((current) => ({ ...current, error: asError(error).message }));
      })
      .finally(() => {
        setLoadingEarlier(false);
      });
  }, [runId, path, state.start, loadingEarlier]);

  return { ...state, loadingEarlier, showEarlier };
}

function initialState(startOffset: number, live: boolean): LogState {
  return {
    text: "",
    start: startOffset,
    ended: null,
    connection: live ? "connecting" : "reading",
    error: null,
  };
}

type SetState = (update: (current: LogState) => LogState) => void;

/** Follow the live log from `offset`; returns the clean-up that stops following. */
function follow(
  runId: string,
  path: string,
  offset: number,
  open: OpenEventSource,
  setState: SetState,
): () => void {
  let position = offset;
  let source: LogEventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const connect = () => {
    const current = open(logStreamUrl(runId, path, position));
    source = current;
    current.addEventListener("open", () => {
      setState((state) => ({ ...state, connection: "open", error: null }));
    });
    current.addEventListener("log", (event) => {
      const piece = parsed(event.data);
      if (piece === null) return;
      position = piece.offset;
      setState((state) => appended(state, piece.text));
    });
    current.addEventListener("end", (event) => {
      const end = parsedEnd(event.data);
      current.close(); // the server closes the stream: no reconnecting to an ended run
      setState((state) => ({ ...state, ended: end ?? "ended", connection: "done" }));
    });
    current.addEventListener("error", () => {
      if (current.readyState !== CLOSED) {
        // The browser reconnects by itself, sending the last offset (Last-Event-ID).
        setState((state) => ({ ...state, connection: "reconnecting" }));
        return;
      }
      current.close();
      setState((state) =>
        state.ended === null ? { ...state, connection: "waiting" } : state,
      );
      if (!stopped) retry = setTimeout(connect, RECONNECT_MS);
    });
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    source?.close();
  };
}

/** An ended run's log from `offset`, read once (a few reads when it is over 1 MiB). */
function readEnded(runId: string, path: string, offset: number, setState: SetState): () => void {
  const controller = new AbortController();
  const readAll = async () => {
    let position = offset;
    for (let read = 0; read < ENDED_READS_MAX; read += 1) {
      const piece = await readLog(runId, path, position, controller.signal);
      if (piece.text === "") break;
      position = piece.offset;
      setState((state) => appended(state, piece.text));
    }
  };
  readAll().then(
    () => {
      setState((state) => ({ ...state, connection: "done", ended: state.ended ?? "ended" }));
    },
    (error: unknown) => {
      if (!controller.signal.aborted) {
        setState((state) => ({ ...state, connection: "done", error: asError(error).message }));
      }
    },
  );
  return () => {
    controller.abort();
  };
}

/** The state with `text` added at the end, its oldest lines let go past the cap. */
export function appended(state: LogState, text: string): LogState {
  const all = state.text + text;
  if (all.length <= HELD_MAX_CHARS) return { ...state, text: all };
  let cut = all.length - HELD_MAX_CHARS;
  const lineStart = all.indexOf("\n", cut);
  if (lineStart >= 0 && lineStart < all.length - 1) cut = lineStart + 1;
  const dropped = new TextEncoder().encode(all.slice(0, cut)).byteLength;
  return { ...state, text: all.slice(cut), start: state.start + dropped };
}

/** The first `count` bytes of `text` (as UTF-8), as text. */
function bytesUpTo(text: string, count: number): string {
  const bytes = new TextEncoder().encode(text);
  return new TextDecoder().decode(bytes.subarray(0, count));
}

function parsed(data: string): { text: string; offset: number } | null {
  const value = jsonOf(data);
  if (typeof value !== "object" || value === null) return null;
  const { text, offset } = value as { text?: unknown; offset?: unknown };
  return typeof text === "string" && typeof offset === "number" ? { text, offset } : null;
}

function parsedEnd(data: string): string | null {
  const value = jsonOf(data);
  if (typeof value !== "object" || value === null) return null;
  const { status } = value as { status?: unknown };
  return typeof status === "string" ? status : null;
}

function jsonOf(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return null;
  }
}
