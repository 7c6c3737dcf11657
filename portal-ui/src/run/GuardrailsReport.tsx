// The data guardrails' report of an image-classification run: passed or failed, the counts,
// images per class, the limits applied, and each finding with its fix. An AutoML-for-tables
// run's report (it has checks by name) shows each check, Passed / Done / Alerted / Failed.
import { Link } from "react-router";
import { ErrorMessage, Loading } from "../components/Feedback";
import { useResource } from "../hooks/useResource";
import { ARTIFACT_PARAM } from "./ArtifactsPanel";
import {
  checkBadgeClass,
  GUARDRAILS_PATH,
  type GuardrailsReport as Report,
  ISSUES_SHOWN_MAX,
  parseGuardrails,
} from "./guardrails";
import { readArtifactJson } from "./runFiles";

const REPORT_BYTES_MAX = 8 * 1024 * 1024;

export function GuardrailsPanel({ runId }: { runId: string }) {
  const read = useResource(
    (signal) => readArtifactJson(runId, GUARDRAILS_PATH, REPORT_BYTES_MAX, signal),
    runId,
  );
  if (read.error) return <ErrorMessage error={read.error} onRetry={read.reload} />;
  if (read.data === undefined) return <Loading what="the guardrails report" />;
  const parsed = parseGuardrails(read.data);
  if (!parsed.ok) {
    return (
      <p className="alert" role="alert" id="guardrails-error">
        {GUARDRAILS_PATH} is not a guardrails report: {parsed.reason}.
      </p>
    );
  }
  const report = parsed.value;
  return report.checks.length > 0 ? <TableGuardrailsReport report={report} /> : <GuardrailsReport report={report} />;
}

export function TableGuardrailsReport({ report }: { report: Report }) {
  return (
    <section className="panel" id="guardrails" aria-labelledby="guardrails-heading">
      <Verdict report={report} />
      <dl className="facts">
        <Fact label="Rows" value={report.rowCount} />
        <Fact label="Features" value={report.featureCount} />
      </dl>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Guardrail checks, scrollable">
        <table className="data-table wrapping" id="guardrails-checks">
          <caption>Checks</caption>
          <thead>
            <tr>
              {["Check", "Status", "Detail", "Columns", "Fix"].map((name) => (
                <th key={name} scope="col">
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {report.checks.map((check, index) => (
              <tr key={`${check.kind}:${String(index)}`} data-check={check.kind}>
                <td>{check.kind.replaceAll("_", " ")}</td>
                <td>
                  <span className={`badge ${checkBadgeClass(check.status)}`}>{check.status}</span>
                </td>
                <td>{check.detail}</td>
                <td>{check.columns.join(", ")}</td>
                <td>{check.fix}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.classCounts.length > 0 && <ClassCounts report={report} caption="Rows per class" counted="Rows" />}
    </section>
  );
}

export function GuardrailsReport({ report }: { report: Report }) {
  const shown = report.issues.slice(0, ISSUES_SHOWN_MAX);
  const hidden = report.issues.length - shown.length;
  return (
    <section className="panel" id="guardrails" aria-labelledby="guardrails-heading">
      <Verdict report={report} />
      <dl className="facts">
        <Fact label="Files" value={report.fileCount} />
        <Fact label="Usable images" value={report.usableCount} />
        <Fact label="Unusable files" value={report.badFileCount} />
      </dl>
      <div className="columns">
        <ClassCounts report={report} caption="Images per class" counted="Usable images" />
        <table className="data-table" id="guardrails-limits">
          <caption>Limits</caption>
          <tbody>
            {report.limits.map(([name, value]) => (
              <tr key={name}>
                <th scope="row">{name.replaceAll("_", " ")}</th>
                <td className="numeric">{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="table-wrap">
        <table className="data-table" id="guardrails-issues">
          <caption>Findings</caption>
          <thead>
            <tr>
              {["Severity", "Kind", "Class", "File", "Detail", "Fix"].map((name) => (
                <th key={name} scope="col">
                  {name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr>
                <td colSpan={6} className="empty">
                  No errors or warnings.
                </td>
              </tr>
            )}
            {shown.map((issue, index) => (
              <tr key={index} className={issue.severity === "error" ? "issue-error" : "issue-warning"}>
                <td>
                  <span className={`badge ${issue.severity === "error" ? "badge-bad" : "badge-warn"}`}>
                    {issue.severity}
                  </span>
                </td>
                <td>{issue.kind}</td>
                <td>{issue.label ?? ""}</td>
                <td>
                  <code>{issue.path ?? ""}</code>
                </td>
                <td>{issue.detail}</td>
                <td>{issue.fix}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hidden > 0 && (
        <p className="empty">
          {hidden} more in{" "}
          <Link to={{ search: `?${ARTIFACT_PARAM}=${encodeURIComponent(GUARDRAILS_PATH)}` }}>
            guardrails.json
          </Link>
          .
        </p>
      )}
    </section>
  );
}

function Verdict({ report }: { report: Report }) {
  return (
    <>
      <h2 id="guardrails-heading">
        Data guardrails{" "}
        <span className={`badge ${report.passed ? "badge-good" : "badge-bad"}`}>
          {report.passed ? "passed" : "failed"}
        </span>
      </h2>
      {report.summary && <p>{report.summary}</p>}
    </>
  );
}

function ClassCounts({ report, caption, counted }: { report: Report; caption: string; counted: string }) {
  return (
    <table className="data-table" id="guardrails-classes">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col" className="numeric">
            {counted}
          </th>
        </tr>
      </thead>
      <tbody>
        {report.classCounts.map(([label, count]) => (
          <tr key={label}>
            <td>{label}</td>
            <td className="numeric">{count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Fact({ label, value }: { label: string; value: number | null }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{value ?? "—"}</dd>
    </div>
  );
}
