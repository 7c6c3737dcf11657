// The run's output: one tab per log file (the job's own output, std_log.txt, first), the log
// live while the run goes on, scrolled to its end as it grows until the reader scrolls up
// (or unticks Follow); scrolling back to the end follows again.
import { useLayoutEffect, useRef, useState } from "react";
import { artifactUrl } from "./runFiles";
import {
  type Connection,
  type OpenEventSource,
  TAIL_BYTES,
  useLogFollower,
} from "./useLogFollower";

export const STD_LOG = "logs/std_log.txt";
const AT_END_PX = 8; // this close to the end counts as at the end

export interface LogFile {
  path: string;
  size: number;
}

interface Props {
  runId: string;
  live: boolean;
  logs: LogFile[];
  openEventSource?: OpenEventSource;
}

export function LogPanel({ runId, live, logs, openEventSource }: Props) {
  const files = logFilesInOrder(logs);
  const [chosen, setChosen] = useState(STD_LOG);
  const current = files.find((file) => file.path === chosen) ?? files[0];
  if (current === undefined) return null; // never: std_log.txt is always listed
  return (
    <section className="panel log-panel" aria-labelledby="log-heading">
      <h2 id="log-heading">Output and logs</h2>
      {files.length > 1 && (
        <div className="log-files" role="group" aria-label="Log files">
          {files.map((file) => (
            <button
              key={file.path}
              type="button"
              aria-pressed={file.path === current.path}
              onClick={() => {
                setChosen(file.path);
              }}
            >
              {file.path.replace(/^logs\//, "")}
            </button>
          ))}
        </div>
      )}
      <LogView
        key={`${runId}\n${current.path}`}
        runId={runId}
        live={live}
        file={current}
        openEventSource={openEventSource}
      />
    </section>
  );
}

/** std_log.txt first (listed even before it is written), the others by name. */
export function logFilesInOrder(logs: LogFile[]): LogFile[] {
  const found = logs.some((file) => file.path === STD_LOG) ? logs : [{ path: STD_LOG, size: 0 }, ...logs];
  return [...found].sort(
    (a, b) => Number(a.path !== STD_LOG) - Number(b.path !== STD_LOG) || a.path.localeCompare(b.path),
  );
}

function LogView({
  runId,
  live,
  file,
  openEventSource,
}: {
  runId: string;
  live: boolean;
  file: LogFile;
  openEventSource: OpenEventSource | undefined;
}) {
  const log = useLogFollower({
    runId,
    path: file.path,
    live,
    startOffset: Math.max(0, file.size - TAIL_BYTES),
    ...(openEventSource ? { openEventSource } : {}),
  });
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);

  useLayoutEffect(() => {
    const element = box.current;
    if (follow && element) element.scrollTop = element.scrollHeight;
  }, [log.text, follow]);

  const onScroll = () => {
    const element = box.current;
    if (!element) return;
    const atEnd = element.scrollHeight - element.scrollTop - element.clientHeight <= AT_END_PX;
    if (atEnd !== follow) setFollow(atEnd);
  };

  return (
    <>
      <div className="log-tools">
        <span role="status" className="log-state" data-connection={log.connection}>
          {connectionText(log.connection, log.ended)}
        </span>
        <label>
          <input
            type="checkbox"
            checked={follow}
            onChange={(event) => {
              setFollow(event.target.checked);
            }}
          />{" "}
          Follow
        </label>
        <a href={artifactUrl(runId, file.path)} download>
          Download the whole log
        </a>
      </div>
      {log.error && <p className="error-text">{log.error}</p>}
      {log.start > 0 && (
        <p className="log-earlier">
          The log starts earlier.{" "}
          <button type="button" onClick={log.showEarlier} disabled={log.loadingEarlier}>
            {log.loadingEarlier ? "Loading…" : "Show earlier output"}
          </button>
        </p>
      )}
      <pre
        ref={box}
        id="log"
        className="log"
        tabIndex={0}
        aria-label={`Log ${file.path}`}
        data-ended={log.ended ?? ""}
        onScroll={onScroll}
      >
        {log.text === "" ? <span className="empty">No output yet.</span> : log.text}
      </pre>
    </>
  );
}

function connectionText(connection: Connection, ended: string | null): string {
  if (ended !== null) {
    return ended === "ended" ? "The log is complete." : `The run ended (${ended}): the log is complete.`;
  }
  switch (connection) {
    case "reading":
      return "Reading the log…";
    case "connecting":
      return "Connecting to the live log…";
    case "open":
      return "Live: new output appears as the run writes it.";
    case "reconnecting":
      return "Connection lost: reconnecting where it stopped…";
    case "waiting":
      return "Disconnected: trying again in a few seconds…";
    case "done":
      return "The log is complete.";
  }
}
