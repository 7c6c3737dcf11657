// The run's outputs and artifacts as a folder tree; a file opens its preview beside it. The
// open file is in the page's URL (?artifact=outputs/evaluation/evaluation.json), so a preview
// can be linked to.
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ArtifactPreview } from "./ArtifactPreview";
import { artifactTree, type FolderNode, foldersAbove } from "./artifactTree";
import { type ArtifactEntry, formatSize } from "./runFiles";

export const ARTIFACT_PARAM = "artifact";
const FILES_SHOWN = 500; // of one folder, until the reader asks for all (a sweep's thousands)

interface Props {
  runId: string;
  entries: ArtifactEntry[];
}

export function ArtifactsPanel({ runId, entries }: Props) {
  const [search] = useSearchParams();
  const chosen = search.get(ARTIFACT_PARAM);
  const tree = artifactTree(entries);
  const entry = entries.find((candidate) => candidate.path === chosen);
  return (
    <section className="panel artifacts-panel" aria-labelledby="artifacts-heading">
      <h2 id="artifacts-heading">Outputs and artifacts</h2>
      <div className="artifacts-layout">
        <nav className="artifact-tree" id="artifact-list" aria-label="Artifacts">
          {entries.length === 0 ? (
            <p className="empty">No artifacts.</p>
          ) : (
            <FolderList folder={tree} chosen={chosen} search={search} />
          )}
        </nav>
        {chosen !== null &&
          (entry === undefined ? (
            <p className="alert" role="alert">
              The run has no artifact {chosen}.
            </p>
          ) : (
            <ArtifactPreview key={entry.path} runId={runId} path={entry.path} size={entry.size} />
          ))}
      </div>
    </section>
  );
}

function FolderList({
  folder,
  chosen,
  search,
}: {
  folder: FolderNode;
  chosen: string | null;
  search: URLSearchParams;
}) {
  const [showAll, setShowAll] = useState(false);
  const files = showAll ? folder.files : folder.files.slice(0, FILES_SHOWN);
  return (
    <ul>
      {folder.folders.map((child) => (
        <Folder key={child.path} folder={child} chosen={chosen} search={search} />
      ))}
      {files.map((file) => (
        <li key={file.path} className="artifact-file">
          <Link
            to={{ search: withArtifact(search, file.path) }}
            preventScrollReset
            aria-current={file.path === chosen ? "true" : undefined}
          >
            {file.path.slice(folder.path ? folder.path.length + 1 : 0)}
          </Link>{" "}
          <span className="size">{formatSize(file.size)}</span>
        </li>
      ))}
      {files.length < folder.files.length && (
        <li>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setShowAll(true);
            }}
          >
            Show all {folder.files.length} files
          </button>
        </li>
      )}
    </ul>
  );
}

function Folder({
  folder,
  chosen,
  search,
}: {
  folder: FolderNode;
  chosen: string | null;
  search: URLSearchParams;
}) {
  // Top-level folders and those holding the open file start open.
  const [open, setOpen] = useState(
    () => !folder.path.includes("/") || (chosen !== null && foldersAbove(chosen).includes(folder.path)),
  );
  return (
    <li className="artifact-folder">
      <button
        type="button"
        className="link-button"
        aria-expanded={open}
        onClick={() => {
          setOpen(!open);
        }}
      >
        {open ? "▾" : "▸"} {folder.name}/
      </button>{" "}
      <span className="size">
        {formatSize(folder.size)} in {folder.fileCount} file{folder.fileCount === 1 ? "" : "s"}
      </span>
      {open && <FolderList folder={folder} chosen={chosen} search={search} />}
    </li>
  );
}

function withArtifact(search: URLSearchParams, path: string): string {
  const next = new URLSearchParams(search);
  next.set(ARTIFACT_PARAM, path);
  return `?${next.toString()}`;
}
