// A parent run's leaderboard as a table: a sweep's trials or an AutoML run's candidate
// families, best first by the primary metric's goal. Each column's header sorts by it (again:
// the other way); each row links to its child run; a row that ended other than completed says
// why (the early-termination policy's reason, the error).
import { useState } from "react";
import { Link } from "react-router";
import { finiteNumber } from "../compare/parallel";
import { StatusBadge } from "../components/StatusBadge";
import { formatMetric } from "../format";
import {
  type Board,
  type BoardRow,
  type BoardSort,
  bestFirst,
  nextSort,
  PARAM_PREFIX,
  sortRows,
  VALUE_COLUMN,
} from "./leaderboard";

interface Column {
  id: string;
  title: string;
  numeric: boolean;
  cell: (row: BoardRow) => React.ReactNode;
}

export function Leaderboard({ board }: { board: Board }) {
  const [sort, setSort] = useState<BoardSort>(() => bestFirst(board.goal));
  const rows = sortRows(board.rows, sort);
  const best = sortRows(board.rows, bestFirst(board.goal))[0];
  const bestKey = best?.ranked ? best.key : null;
  const columns = columnsOf(board);
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Leaderboard, scrollable">
      <table className="data-table leaderboard" id="leaderboard">
        <caption>
          {board.kind === "sweep" ? "Trials" : "Candidate models"}, by {board.metric} ({board.goal})
        </caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = column.id === sort.column;
              return (
                <th
                  key={column.id}
                  scope="col"
                  className={column.numeric ? "numeric" : undefined}
                  aria-sort={sorted ? (sort.descending ? "descending" : "ascending") : undefined}
                  data-column={column.id}
                >
                  <button
                    type="button"
                    className="sort-button"
                    onClick={() => {
                      setSort(nextSort(sort, column.id, board.goal));
                    }}
                  >
                    {column.title}
                    <span aria-hidden="true" className="sort-mark">
                      {sorted ? (sort.descending ? " ▼" : " ▲") : ""}
                    </span>
                  </button>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="empty">
                No {board.kind === "sweep" ? "trials" : "candidate models"} yet.
              </td>
            </tr>
          )}
          {rows.map((row) => (
            <tr
              key={row.key}
              data-run-id={row.runId ?? undefined}
              className={row.key === bestKey ? "best-row" : undefined}
            >
              {columns.map((column) => (
                <td key={column.id} className={column.numeric ? "numeric" : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function columnsOf(board: Board): Column[] {
  const sweep = board.kind === "sweep";
  const params = board.paramNames.filter((name) => sweep || name !== "family");
  return [
    ...(sweep ? [{ id: "number", title: "Trial", numeric: true, cell: (row: BoardRow) => row.number ?? "" }] : []),
    { id: "label", title: sweep ? "Run" : "Model family", numeric: false, cell: nameCell },
    { id: "status", title: "Status", numeric: false, cell: statusCell },
    {
      id: VALUE_COLUMN,
      title: board.metric,
      numeric: true,
      cell: (row: BoardRow) => formatMetric(row.value),
    },
    ...params.map((name) => ({
      id: `${PARAM_PREFIX}${name}`,
      title: name,
      numeric: board.rows.every((row) => !row.params[name] || finiteNumber(row.params[name]) !== null),
      cell: (row: BoardRow) => row.params[name] ?? "",
    })),
  ];
}

function nameCell(row: BoardRow) {
  return row.runId === null ? row.label : <Link to={`/runs/${encodeURIComponent(row.runId)}`}>{row.label}</Link>;
}

function statusCell(row: BoardRow) {
  return (
    <>
      {row.status && <StatusBadge status={row.status} />}
      {row.reason && (
        <span className="row-reason" data-field="reason">
          {row.reason}
        </span>
      )}
    </>
  );
}
