// One artifact, shown by its type: an image as itself, JSON as a tree whose branches fold, a
// CSV or TSV file as a table of its first rows, text as its first PREVIEW_BYTES, and anything
// else as a download link. Only the beginning of a file is downloaded to preview it.
import { type ReactNode, useState } from "react";
import { ErrorMessage, Loading } from "../components/Feedback";
import { useResource } from "../hooks/useResource";
import { baseName } from "./artifactTree";
import { parseCsvHead } from "./csv";
import { artifactUrl, formatSize, readArtifactHead } from "./runFiles";

export const PREVIEW_BYTES = 256 * 1024;
export const JSON_TREE_BYTES = 2 * 1024 * 1024; // larger JSON is shown as text
export const CSV_ROWS = 100;

const IMAGE = /\.(png|jpe?g|gif|webp|bmp)$/i; // not SVG: it can carry script
const JSON_FILE = /\.json$/i;
const TABLE = /\.(csv|tsv)$/i;
const TEXT =
  /\.(txt|log|jsonl|yaml|yml|md|py|toml|cfg|ini|sh|tmpl|out|err|ipynb|xml|html|js|ts|r)$/i;

export type PreviewKind = "image" | "json" | "table" | "text" | "unknown";

export function previewKind(path: string): PreviewKind {
  if (IMAGE.test(path)) return "image";
  if (JSON_FILE.test(path)) return "json";
  if (TABLE.test(path)) return "table";
  if (TEXT.test(path)) return "text";
  return "unknown"; // text if its first bytes are text, else only a download
}

interface Props {
  runId: string;
  path: string;
  size: number | null;
}

export function ArtifactPreview({ runId, path, size }: Props) {
  const url = artifactUrl(runId, path);
  return (
    <section className="artifact-preview" aria-label={`Preview of ${path}`} id="preview">
      <div className="preview-head">
        <h3>{path}</h3>
        <a className="button" id="download" href={url} download={baseName(path)}>
          Download{size === null ? "" : ` (${formatSize(size)})`}
        </a>
      </div>
      {previewKind(path) === "image" ? (
        <img className="image-preview" id="image-preview" src={url} alt={path} />
      ) : (
        <ReadPreview runId={runId} path={path} />
      )}
    </section>
  );
}

function ReadPreview({ runId, path }: { runId: string; path: string }) {
  const kind = previewKind(path);
  const limit = kind === "json" ? JSON_TREE_BYTES : PREVIEW_BYTES;
  const head = useResource(
    (signal) => readArtifactHead(runId, path, limit, signal),
    `${runId}\n${path}`,
  );
  if (head.error) return <ErrorMessage error={head.error} onRetry={head.reload} />;
  if (head.data === undefined || head.loading) return <Loading what={path} />;
  const { text, truncated, bytes } = head.data;
  if (kind === "json" && !truncated) {
    const parsed = parseJson(text);
    if (parsed.ok) return <JsonTree value={parsed.value} />;
    return (
      <>
        <p className="error-text">Not valid JSON ({parsed.reason}): shown as text.</p>
        <TextPreview text={text} truncated={false} />
      </>
    );
  }
  if (kind === "table") {
    return <CsvPreview text={text} separator={/\.tsv$/i.test(path) ? "\t" : ","} truncated={truncated} />;
  }
  if (kind === "unknown" && !looksLikeText(bytes)) {
    return <p className="empty">No preview for this kind of file: download it.</p>;
  }
  return <TextPreview text={text.slice(0, PREVIEW_BYTES)} truncated={truncated || text.length > PREVIEW_BYTES} />;
}

function TextPreview({ text, truncated }: { text: string; truncated: boolean }) {
  return (
    <>
      <pre className="file-text" id="text-preview" tabIndex={0}>
        {text}
      </pre>
      {truncated && (
        <p className="empty">Only the first {formatSize(PREVIEW_BYTES)} is shown: download the file for all of it.</p>
      )}
    </>
  );
}

function CsvPreview({ text, separator, truncated }: { text: string; separator: string; truncated: boolean }) {
  const table = parseCsvHead(text, separator, CSV_ROWS, truncated);
  if (table.header.length === 0) return <p className="empty">The file is empty.</p>;
  return (
    <div className="table-wrap">
      <table className="data-table" id="csv-preview">
        <thead>
          <tr>
            {table.header.map((name, index) => (
              <th key={index} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((row, rowIndex) => (
            <tr key={rowIndex}>
              {row.map((value, index) => (
                <td key={index}>{value}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {table.more && (
        <p className="empty">
          The first {table.rows.length} rows: download the file for all of them.
        </p>
      )}
    </div>
  );
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** No NUL byte and valid UTF-8 in the first 8 KiB (a character cut at its end is fine). */
export function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 8192);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: true });
    return true;
  } catch {
    return false;
  }
}

const OPEN_DEPTH = 2; // deeper branches start folded
const CHILDREN_SHOWN = 500; // of one array or object; the rest is counted

function JsonTree({ value }: { value: unknown }) {
  return (
    <div className="json-tree" id="json-preview">
      <JsonNode name={null} value={value} depth={0} />
    </div>
  );
}

function JsonNode({ name, value, depth }: { name: string | null; value: unknown; depth: number }) {
  const label = name === null ? null : <span className="json-key">{name}: </span>;
  if (typeof value !== "object" || value === null) {
    return (
      <div className="json-leaf">
        {label}
        <span className={`json-${value === null ? "null" : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  return <JsonBranch label={label} value={value} depth={depth} />;
}

function JsonBranch({ label, value, depth }: { label: ReactNode; value: object; depth: number }) {
  const [open, setOpen] = useState(depth < OPEN_DEPTH);
  const entries: [string, unknown][] = Array.isArray(value)
    ? (value as unknown[]).map((item, index) => [String(index), item])
    : Object.entries(value);
  const [opening, closing] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  const count = `${entries.length} ${Array.isArray(value) ? "items" : "keys"}`;
  return (
    <details
      open={open}
      onToggle={(event) => {
        setOpen(event.currentTarget.open);
      }}
    >
      <summary>
        {label}
        {opening}
        {open ? " " : ` … ${closing} `}
        <span className="json-count">{count}</span>
      </summary>
      {open && (
        <div className="json-children">
          {entries.slice(0, CHILDREN_SHOWN).map(([key, item]) => (
            <JsonNode key={key} name={key} value={item} depth={depth + 1} />
          ))}
          {entries.length > CHILDREN_SHOWN && (
            <div className="empty">…and {entries.length - CHILDREN_SHOWN} more</div>
          )}
          <div>{closing}</div>
        </div>
      )}
    </details>
  );
}
