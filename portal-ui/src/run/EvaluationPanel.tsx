// An image-classification run's evaluation: the summary, the confusion matrix (choose a cell
// to see its misclassified images) and the per-class metrics. Each artifact is read and
// checked on its own: a bad one is a line saying so, the others still show.
import { type ReactNode, useState } from "react";
import { ErrorMessage, Loading } from "../components/Feedback";
import { type Resource, useResource } from "../hooks/useResource";
import { ClassMetricsTable } from "./ClassMetricsTable";
import { type Cell, ConfusionMatrix } from "./ConfusionMatrix";
import {
  CONFUSION_FILE,
  EVALUATION_FILE,
  MISCLASSIFIED_FILE,
  type Misclassified,
  parseConfusion,
  parseEvaluation,
  parseMisclassified,
} from "./evaluation";
import type { Checked } from "./guardrails";
import { type ArtifactEntry, artifactUrl, joinPath, readArtifactJson } from "./runFiles";

const JSON_BYTES_MAX = 16 * 1024 * 1024;
export const IMAGES_SHOWN_MAX = 60;

interface Props {
  runId: string;
  folder: string; // holding confusion_matrix.json
  entries: ArtifactEntry[];
}

export function EvaluationPanel({ runId, folder, entries }: Props) {
  const has = (name: string) => entries.some((entry) => entry.path === joinPath(folder, name));
  const confusion = useJsonArtifact(runId, joinPath(folder, CONFUSION_FILE), true);
  const evaluation = useJsonArtifact(runId, joinPath(folder, EVALUATION_FILE), has(EVALUATION_FILE));
  const misclassified = useJsonArtifact(
    runId,
    joinPath(folder, MISCLASSIFIED_FILE),
    has(MISCLASSIFIED_FILE),
  );
  const [selected, setSelected] = useState<Cell | null>(null);

  return (
    <section className="panel" id="evaluation" aria-labelledby="evaluation-heading">
      <h2 id="evaluation-heading">Evaluation</h2>
      <Checked resource={evaluation} parse={parseEvaluation} what={EVALUATION_FILE}>
        {(summary) => summary.summary && <p id="evaluation-summary">{summary.summary}</p>}
      </Checked>
      <Checked resource={confusion} parse={parseConfusion} what={CONFUSION_FILE}>
        {(data) => (
          <div className="evaluation-layout">
            <ConfusionMatrix data={data} selected={selected} onSelect={setSelected} />
            <Checked resource={misclassified} parse={parseMisclassified} what={MISCLASSIFIED_FILE}>
              {(items) => (
                <MisclassifiedImages
                  runId={runId}
                  folder={folder}
                  items={items}
                  cell={selected}
                  labels={data.labels}
                />
              )}
            </Checked>
          </div>
        )}
      </Checked>
      <Checked resource={evaluation} parse={parseEvaluation} what={EVALUATION_FILE}>
        {(summary) => (
          <>
            <ClassMetricsTable classes={summary.perClass} />
            {summary.notes.length > 0 && (
              <ul className="notes">
                {summary.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </Checked>
    </section>
  );
}

/** The artifact's JSON, read when `present` (an absent file is not asked for: no 404). */
function useJsonArtifact(runId: string, path: string, present: boolean): Resource<unknown> | null {
  const read = useResource(
    (signal) => (present ? readArtifactJson(runId, path, JSON_BYTES_MAX, signal) : Promise.resolve(null)),
    `${runId}\n${path}\n${String(present)}`,
  );
  return present ? read : null;
}

function Checked<T>({
  resource,
  parse,
  what,
  children,
}: {
  resource: Resource<unknown> | null;
  parse: (data: unknown) => Checked<T>;
  what: string;
  children: (value: T) => ReactNode;
}) {
  if (resource === null) return null;
  if (resource.error) return <ErrorMessage error={resource.error} onRetry={resource.reload} />;
  if (resource.data === undefined) return <Loading what={what} />;
  const parsed = parse(resource.data);
  if (!parsed.ok) {
    return (
      <p className="error-text" data-bad-artifact={what}>
        {what} could not be shown: {parsed.reason}.
      </p>
    );
  }
  return <>{children(parsed.value)}</>;
}

function MisclassifiedImages({
  runId,
  folder,
  items,
  cell,
  labels,
}: {
  runId: string;
  folder: string;
  items: Misclassified[];
  cell: Cell | null;
  labels: string[];
}) {
  if (cell === null) {
    return (
      <p className="empty misclassified-hint">
        Choose a cell of the matrix to see the images taken for another class.
      </p>
    );
  }
  const truth = labels[cell.row] ?? "";
  const predicted = labels[cell.column] ?? "";
  if (cell.row === cell.column) {
    return (
      <p className="empty misclassified-hint" id="misclassified">
        {truth} predicted as {truth}: correct predictions; only mistakes are listed.
      </p>
    );
  }
  const found = items.filter((item) => item.label === truth && item.predicted === predicted);
  const shown = found.slice(0, IMAGES_SHOWN_MAX);
  return (
    <section className="misclassified" id="misclassified" aria-live="polite" aria-labelledby="misclassified-heading">
      <h3 id="misclassified-heading">
        {truth} predicted as {predicted}: {found.length} image{found.length === 1 ? "" : "s"}
      </h3>
      {found.length === 0 && <p className="empty">None.</p>}
      <ul className="thumbnails">
        {shown.map((item) => (
          <li key={item.index} data-index={item.index}>
            <figure>
              {item.thumbnail === null ? (
                <div className="no-thumbnail">no image saved</div>
              ) : (
                <img
                  src={artifactUrl(runId, joinPath(folder, item.thumbnail))}
                  alt={`${item.source ?? `image ${item.index}`}: ${truth}, predicted ${predicted}`}
                />
              )}
              <figcaption>
                <span className="source">{baseNameOf(item.source) ?? `#${item.index}`}</span>
                {item.score !== null && <span className="score"> {(item.score * 100).toFixed(0)}% sure</span>}
              </figcaption>
            </figure>
          </li>
        ))}
      </ul>
      {found.length > shown.length && (
        <p className="empty">
          The {shown.length} most confident of {found.length}: the rest are listed in {MISCLASSIFIED_FILE}.
        </p>
      )}
    </section>
  );
}

function baseNameOf(source: string | null): string | null {
  if (source === null) return null;
  return source.slice(Math.max(source.lastIndexOf("/"), source.lastIndexOf("\\")) + 1);
}
