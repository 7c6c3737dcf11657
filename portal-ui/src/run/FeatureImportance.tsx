// The best model's permutation feature importance as a bar chart (SVG drawn by React: a bar
// per column, most important on top, its spread over the repeats as a whisker). Hovering a bar
// gives its numbers; the same numbers stay in the file (the Artifacts tab).
import { ErrorMessage, Loading } from "../components/Feedback";
import { formatMetric } from "../format";
import { useResource } from "../hooks/useResource";
import { barShare, IMPORTANCE_PATH, type ImportanceReport, parseImportance } from "./importance";
import { readArtifactJson } from "./runFiles";

const REPORT_BYTES_MAX = 4 * 1024 * 1024;
const LABEL_WIDTH = 180;
const BAR_WIDTH = 420;
const VALUE_WIDTH = 90;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 16;

export function FeatureImportancePanel({ runId }: { runId: string }) {
  const read = useResource(
    (signal) => readArtifactJson(runId, IMPORTANCE_PATH, REPORT_BYTES_MAX, signal),
    runId,
  );
  if (read.error) return <ErrorMessage error={read.error} onRetry={read.reload} />;
  if (read.data === undefined) return <Loading what="the feature importance" />;
  const parsed = parseImportance(read.data);
  if (!parsed.ok) {
    return (
      <p className="alert" role="alert" id="importance-error">
        {IMPORTANCE_PATH} is not a feature importance report: {parsed.reason}.
      </p>
    );
  }
  return <FeatureImportanceChart report={parsed.value} />;
}

export function FeatureImportanceChart({ report }: { report: ImportanceReport }) {
  const largest = Math.max(0, ...report.features.map((item) => item.importance + item.std));
  const width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const height = Math.max(1, report.features.length) * ROW_HEIGHT;
  return (
    <section className="panel" id="feature-importance" aria-labelledby="importance-heading">
      <h2 id="importance-heading">Feature importance</h2>
      <p className="empty">
        How much {report.metric || "the primary metric"} drops when a column&apos;s values are shuffled
        (permutation importance of the best model
        {report.rows === null ? "" : `, ${String(report.rows)} rows`}
        {report.repeats === null ? "" : `, ${String(report.repeats)} repeats`}).
      </p>
      {report.features.length === 0 ? (
        <p className="empty">No columns.</p>
      ) : (
        <div className="parallel-scroll" tabIndex={0} aria-label="Feature importance, scrollable">
          <svg
            width={width}
            height={height}
            viewBox={`0 0 ${String(width)} ${String(height)}`}
            role="img"
            aria-label={`Permutation importance of ${String(report.features.length)} columns`}
            className="importance-chart"
          >
            {report.features.map((item, index) => {
              const y = index * ROW_HEIGHT;
              const bar = barShare(item.importance, largest) * BAR_WIDTH;
              const low = LABEL_WIDTH + barShare(item.importance - item.std, largest) * BAR_WIDTH;
              const high = LABEL_WIDTH + barShare(item.importance + item.std, largest) * BAR_WIDTH;
              const middle = y + ROW_HEIGHT / 2;
              return (
                <g key={item.column} className="importance-row" data-column={item.column}>
                  <title>{`${item.column}: ${formatMetric(item.importance)} ± ${formatMetric(item.std)}`}</title>
                  <text x={LABEL_WIDTH - 8} y={middle + 4} textAnchor="end" className="importance-label">
                    {item.column.length > 24 ? `${item.column.slice(0, 23)}…` : item.column}
                  </text>
                  <rect
                    className="importance-bar"
                    x={LABEL_WIDTH}
                    y={middle - BAR_HEIGHT / 2}
                    width={bar}
                    height={BAR_HEIGHT}
                  />
                  {item.std > 0 && high > low && (
                    <line className="importance-whisker" x1={low} x2={high} y1={middle} y2={middle} />
                  )}
                  <text x={LABEL_WIDTH + BAR_WIDTH + 8} y={middle + 4} className="importance-value">
                    {formatMetric(item.importance)}
                  </text>
                </g>
              );
            })}
          </svg>
        </div>
      )}
    </section>
  );
}
