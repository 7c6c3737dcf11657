// The runs table's page: filters, the table, paging; the whole view lives in the URL, so a
// copied link opens the same view. Runs ticked in the table open side by side in Compare.
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { listExperiments, queryRuns } from "../api/endpoints";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { COMPARE_MAX, compareUrl } from "../compare/compareUrl";
import { useResource } from "../hooks/useResource";
import { ColumnChooser } from "../runs/ColumnChooser";
import { choosableColumns, defaultColumns, pageColumns } from "../runs/columns";
import { CopyLink } from "../runs/CopyLink";
import { PAGE_SIZES, paramsFromView, type RunsView, viewFromParams, withQuery } from "../runs/runQuery";
import { RunsTable } from "../runs/RunsTable";
import { StatusFilter } from "../runs/StatusFilter";

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const view = viewFromParams(params);
  const { query } = view;
  const show = (next: RunsView) => {
    setParams(paramsFromView(next));
  };
  const key = paramsFromView({ query, columns: null }).toString();
  const page = useResource((signal) => queryRuns(query, signal), key);
  const experiments = useResource(listExperiments, "experiments");
  const [selected, setSelected] = useState<string[]>([]);
  const navigate = useNavigate();
  const runs = page.data?.runs ?? [];
  const columns = pageColumns(page.data?.metric_columns ?? [], runs, view.columns);
  const showExperiment = query.experiment === null;
  const choosable = choosableColumns(columns, showExperiment);
  const shown = view.columns ?? defaultColumns(columns, runs);
  const filtered = query.statuses.length + query.tags.length + query.metrics.length > 0;

  return (
    <>
      <PageTitle>{query.experiment ? `Runs of ${query.experiment}` : "Runs"}</PageTitle>
      <form
        className="filters"
        aria-label="Filter runs"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <label>
          Experiment
          <select
            value={query.experiment ?? ""}
            onChange={(event) => {
              show(withQuery(view, { experiment: event.target.value || null }));
            }}
          >
            <option value="">All experiments</option>
            {(experiments.data ?? []).map((experiment) => (
              <option key={experiment.id} value={experiment.name}>
                {experiment.name}
              </option>
            ))}
          </select>
        </label>
        <StatusFilter
          chosen={query.statuses}
          onChange={(statuses) => {
            show(withQuery(view, { statuses }));
          }}
        />
        <FilterChips
          label="Tag"
          placeholder="team=vision"
          values={query.tags}
          onChange={(tags) => {
            show(withQuery(view, { tags }));
          }}
        />
        <FilterChips
          label="Metric"
          placeholder="accuracy>0.9"
          values={query.metrics}
          onChange={(metrics) => {
            show(withQuery(view, { metrics }));
          }}
        />
        <ColumnChooser
          columns={choosable}
          shown={shown}
          onChange={(chosen) => {
            show({ ...view, columns: chosen });
          }}
          onReset={() => {
            show({ ...view, columns: null });
          }}
        />
        {filtered && (
          <button
            type="button"
            onClick={() => {
              show(withQuery(view, { statuses: [], tags: [], metrics: [] }));
            }}
          >
            Clear filters
          </button>
        )}
      </form>
      <div className="table-bar">
        <button
          type="button"
          className="primary"
          id="compare-button"
          disabled={selected.length < 2 || selected.length > COMPARE_MAX}
          onClick={() => {
            void navigate(compareUrl(selected));
          }}
        >
          Compare{selected.length > 0 ? ` ${String(selected.length)} runs` : ""}
        </button>
        {selected.length > 0 && (
          <button
            type="button"
            onClick={() => {
              setSelected([]);
            }}
          >
            Clear selection
          </button>
        )}
        {selected.length > COMPARE_MAX && (
          <span className="muted">Compare takes up to {COMPARE_MAX} runs.</span>
        )}
        <CopyLink />
      </div>
      {page.error && <ErrorMessage error={page.error} onRetry={page.reload} />}
      {page.data === undefined ? (
        page.loading && <Loading what="runs" />
      ) : (
        <>
          <RunsTable
            runs={page.data.runs}
            columns={columns}
            shown={shown}
            sort={query.sort}
            descending={query.descending}
            onSort={(sort, descending) => {
              show(withQuery(view, { sort, descending }));
            }}
            showExperiment={showExperiment}
            selected={selected}
            onSelect={setSelected}
          />
          <Pager
            total={page.data.total}
            offset={query.offset}
            limit={query.limit}
            busy={page.loading}
            onPage={(offset, limit) => {
              show(withQuery(view, { offset, limit }));
            }}
          />
        </>
      )}
    </>
  );
}

interface ChipsProps {
  label: string;
  placeholder: string;
  values: string[];
  onChange: (values: string[]) => void;
}

/** Filters of one kind as removable chips; Enter adds the one typed. */
function FilterChips({ label, placeholder, values, onChange }: ChipsProps) {
  const [draft, setDraft] = useState("");
  return (
    <div className="chips">
      <label>
        {label}
        <input
          type="text"
          value={draft}
          placeholder={placeholder}
          onChange={(event) => {
            setDraft(event.target.value);
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter" && draft.trim()) {
              event.preventDefault();
              onChange([...values, draft.trim()]);
              setDraft("");
            }
          }}
        />
      </label>
      {values.map((value) => (
        <button
          key={value}
          type="button"
          className="chip"
          aria-label={`Remove filter ${value}`}
          onClick={() => {
            onChange(values.filter((other) => other !== value));
          }}
        >
          {value} <span aria-hidden="true">×</span>
        </button>
      ))}
    </div>
  );
}

interface PagerProps {
  total: number;
  offset: number;
  limit: number;
  busy: boolean;
  onPage: (offset: number, limit: number) => void;
}

function Pager({ total, offset, limit, busy, onPage }: PagerProps) {
  const last = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label="Pages of runs">
      <span aria-live="polite">
        {total === 0 ? "No runs" : `${offset + 1}–${last} of ${total.toLocaleString()}`}
        {busy ? " (loading…)" : ""}
      </span>
      <button
        type="button"
        disabled={offset === 0}
        onClick={() => {
          onPage(Math.max(0, offset - limit), limit);
        }}
      >
        Previous
      </button>
      <button
        type="button"
        disabled={last >= total}
        onClick={() => {
          onPage(offset + limit, limit);
        }}
      >
        Next
      </button>
      <label>
        Per page
        <select
          value={limit}
          onChange={(event) => {
            onPage(0, Number(event.target.value));
          }}
        >
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </label>
    </nav>
  );
}
