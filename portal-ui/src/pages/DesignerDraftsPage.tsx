// The designer's drafts: open one, or start a new pipeline by name. A pipeline made with the
// CLI opens here once imported (`modelyard pipeline draft import -f pipeline.yml`).
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { listDrafts } from "../api/designer";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { formatTime } from "../format";
import { useResource } from "../hooks/useResource";

export default function DesignerDraftsPage() {
  const drafts = useResource(listDrafts, "drafts");
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const start = (event: { preventDefault: () => void }) => {
    event.preventDefault();
    // The name's rule is the server's: a bad one is refused, in its words, when first saved.
    if (name.trim() === "") {
      setProblem("give the pipeline a name");
      return;
    }
    if (drafts.data?.some((draft) => draft.name === name.trim())) {
      setProblem(`there is already a draft named '${name.trim()}': open it below or choose another name`);
      return;
    }
    void navigate(`/designer/${encodeURIComponent(name.trim())}?new`);
  };
  return (
    <>
      <PageTitle>Designer</PageTitle>
      <form className="filters" onSubmit={start} aria-label="New pipeline">
        <label>
          New pipeline
          <input
            id="new-pipeline-name"
            value={name}
            placeholder="name, e.g. nightly_retrain"
            aria-invalid={problem !== null}
            onChange={(event) => {
              setName(event.target.value);
              setProblem(null);
            }}
          />
        </label>
        <button type="submit">Create</button>
        {problem !== null && (
          <span className="error-text" role="alert">
            {problem}
          </span>
        )}
      </form>
      {drafts.error && <ErrorMessage error={drafts.error} onRetry={drafts.reload} />}
      {drafts.data === undefined ? (
        drafts.loading && <Loading what="drafts" />
      ) : drafts.data.length === 0 ? (
        <p className="empty">
          No draft yet: create one above, or import a pipeline file with <code>modelyard pipeline draft import -f pipeline.yml</code>.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" id="drafts">
            <thead>
              <tr>
                <th scope="col">Draft</th>
                <th scope="col" className="numeric">
                  Revision
                </th>
                <th scope="col">Updated</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {drafts.data.map((draft) => (
                <tr key={draft.name} data-draft={draft.name}>
                  <td>
                    <Link to={`/designer/${encodeURIComponent(draft.name)}`}>{draft.name}</Link>
                  </td>
                  <td className="numeric">{draft.revision}</td>
                  <td>{formatTime(draft.updated_at)}</td>
                  <td>{draft.updated_by || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
