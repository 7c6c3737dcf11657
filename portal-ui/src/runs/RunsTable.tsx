// The runs table: columns from TanStack Table, rows virtualized by TanStack Virtual (a page of
// 1,000 runs draws only the rows in sight), a sticky header whose sortable columns ask the
// server for the order (the table never sorts a page by itself), and a column chooser.
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  useReactTable,
  type VisibilityState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef } from "react";
import { Link } from "react-router";
import type { RunRow } from "../api/types";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatMetric, formatTime, runDurationS, runLabel } from "../format";
import { METRIC_SORT_PREFIX, serverSortOf } from "./runQuery";

export interface RunsTableProps {
  runs: RunRow[];
  metricColumns: string[];
  sort: string;
  descending: boolean;
  onSort: (sort: string, descending: boolean) => void;
  hidden: string[];
  showExperiment: boolean;
}

const ROW_HEIGHT = 36;

export function runColumns(metricColumns: string[], showExperiment: boolean): ColumnDef<RunRow>[] {
  const columns: ColumnDef<RunRow>[] = [
    {
      id: "display_name",
      header: "Run",
      cell: ({ row }) => (
        <Link to={`/runs/${encodeURIComponent(row.original.id)}`}>{runLabel(row.original)}</Link>
      ),
    },
    { id: "number", header: "#", accessorFn: (run) => run.number },
    ...(showExperiment
      ? [{ id: "experiment", header: "Experiment", accessorFn: (run: RunRow) => run.experiment }]
      : []),
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => <StatusBadge status={row.original.status} />,
    },
    { id: "created", header: "Created", accessorFn: (run) => formatTime(run.created_at) },
    {
      id: "duration",
      header: "Duration",
      accessorFn: (run) => formatDuration(runDurationS(run.started_at, run.ended_at)),
    },
    { id: "user", header: "User", accessorFn: (run) => run.user || "—" },
    { id: "compute", header: "Compute", accessorFn: (run) => run.compute_target ?? "—" },
    ...metricColumns.map(
      (name): ColumnDef<RunRow> => ({
        id: `${METRIC_SORT_PREFIX}${name}`,
        header: name,
        accessorFn: (run) => formatMetric(run.metrics[name]),
        meta: { numeric: true },
      }),
    ),
    {
      id: "error",
      header: "Failure reason",
      cell: ({ row }) => <span className="error-text">{row.original.error ?? ""}</span>,
    },
  ];
  return columns.map((column) => ({
    ...column,
    enableSorting: column.id !== undefined && serverSortOf(column.id) !== null,
  }));
}

export function RunsTable(props: RunsTableProps) {
  const { runs, metricColumns, sort, descending, onSort, hidden, showExperiment } = props;
  const columns = useMemo(
    () => runColumns(metricColumns, showExperiment),
    [metricColumns, showExperiment],
  );
  const sorting: SortingState = [{ id: sort, desc: descending }];
  const visibility: VisibilityState = Object.fromEntries(hidden.map((id) => [id, false]));
  // TanStack Table's hook returns functions React's compiler cannot memoize; nothing here is.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: runs,
    columns,
    getRowId: (run) => run.id,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    state: { sorting, columnVisibility: visibility },
  });
  // A column's first click: newest first for the creation time, else ascending; a second
  // click on the current column flips its order. The server sorts; the table only asks.
  const sortBy = (columnId: string) => {
    onSort(columnId, columnId === sort ? !descending : columnId === "created");
  };
  const scroller = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);
  const visibleColumns = table.getVisibleLeafColumns().length;

  return (
    <div className="table-scroller" ref={scroller} tabIndex={0} aria-label="Runs">
      <table className="data-table runs-table">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const canSort = header.column.getCanSort();
                const label = flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={
                      sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined
                    }
                    data-column={header.column.id}
                  >
                    {canSort ? (
                      <button
                        type="button"
                        className="sort-button"
                        onClick={() => {
                          sortBy(header.column.id);
                        }}
                      >
                        {label}
                        <span aria-hidden="true" className="sort-mark">
                          {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                        </span>
                      </button>
                    ) : (
                      label
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {padTop > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={visibleColumns} style={{ height: padTop }} />
            </tr>
          )}
          {items.map((item) => {
            const row = rows[item.index];
            if (row === undefined) return null;
            return (
              <tr key={row.id} data-run-id={row.id}>
                {row.getVisibleCells().map((cell) => (
                  <td
                    key={cell.id}
                    className={cell.column.columnDef.meta?.numeric ? "numeric" : undefined}
                  >
                    {flexRender(cell.column.columnDef.cell, cell.getContext())}
                  </td>
                ))}
              </tr>
            );
          })}
          {padBottom > 0 && (
            <tr aria-hidden="true" className="spacer">
              <td colSpan={visibleColumns} style={{ height: padBottom }} />
            </tr>
          )}
        </tbody>
      </table>
      {rows.length === 0 && <p className="empty">No runs match.</p>}
    </div>
  );
}
