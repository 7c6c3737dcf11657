// The runs table: columns from TanStack Table, rows virtualized by TanStack Virtual (a page of
// 1,000 runs draws only the rows in sight), a sticky header whose sortable columns ask the
// server for the order (the table never sorts a page by itself), a checkbox per run to pick
// runs to compare, and the columns the reader chose (`columns.ts`). A wide table scrolls
// sideways inside its own box, never the page.
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  useReactTable,
  type VisibilityState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";
import type { RunRow } from "../api/types";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatMetric, runDurationS, runLabel } from "../format";
import { RunNameCell, TextCell, TimeCell } from "./cells";
import { type ColumnChoice, choosableColumns, type PageColumns } from "./columns";
import { METRIC_SORT_PREFIX, PARAM_PREFIX, serverSortOf, TAG_PREFIX } from "./runQuery";
import "./runs.css";

export interface RunsTableProps {
  runs: RunRow[];
  columns: PageColumns;
  shown: string[];
  sort: string;
  descending: boolean;
  onSort: (sort: string, descending: boolean) => void;
  showExperiment: boolean;
  selected: string[];
  onSelect: (selected: string[]) => void;
}

const ROW_HEIGHT = 36;

function runColumn(choice: ColumnChoice, showExperiment: boolean): ColumnDef<RunRow> {
  const { id, label } = choice;
  const base = { id, header: label };
  if (id.startsWith(METRIC_SORT_PREFIX)) {
    const name = id.slice(METRIC_SORT_PREFIX.length);
    return { ...base, accessorFn: (run) => formatMetric(run.metrics[name]), meta: { numeric: true } };
  }
  if (id.startsWith(PARAM_PREFIX)) {
    const key = id.slice(PARAM_PREFIX.length);
    return { ...base, cell: ({ row }) => <TextCell text={row.original.params[key]} /> };
  }
  if (id.startsWith(TAG_PREFIX)) {
    const key = id.slice(TAG_PREFIX.length);
    return { ...base, cell: ({ row }) => <TextCell text={row.original.tags[key]} /> };
  }
  const cells: Record<string, ColumnDef<RunRow>["cell"]> = {
    display_name: ({ row }) => <RunNameCell run={row.original} withExperiment={showExperiment} />,
    number: ({ row }) => row.original.number,
    experiment: ({ row }) => row.original.experiment,
    status: ({ row }) => <StatusBadge status={row.original.status} />,
    created: ({ row }) => <TimeCell iso={row.original.created_at} />,
    duration: ({ row }) =>
      formatDuration(runDurationS(row.original.started_at, row.original.ended_at)),
    user: ({ row }) => row.original.user || "—",
    compute: ({ row }) => row.original.compute_target ?? "—",
    error: ({ row }) => (
      <span className="error-text clipped" title={row.original.error ?? undefined}>
        {row.original.error ?? ""}
      </span>
    ),
  };
  // An accessor, though the cell draws the value: TanStack sorts (here: offers to sort) only
  // columns that have one.
  const value = (run: RunRow): unknown => (run as unknown as Record<string, unknown>)[id];
  return { ...base, accessorFn: value, cell: cells[id], meta: { numeric: id === "number" } };
}

export function runColumns(page: PageColumns, showExperiment: boolean): ColumnDef<RunRow>[] {
  return choosableColumns(page, showExperiment).map((choice) => ({
    ...runColumn(choice, showExperiment),
    enableSorting: serverSortOf(choice.id) !== null,
  }));
}

export function RunsTable(props: RunsTableProps) {
  const { runs, columns: pageColumns, shown, sort, descending, onSort, showExperiment } = props;
  const { selected, onSelect } = props;
  const columns = useMemo(
    () => runColumns(pageColumns, showExperiment),
    [pageColumns, showExperiment],
  );
  const sorting: SortingState = [{ id: sort, desc: descending }];
  const visibility: VisibilityState = Object.fromEntries(
    columns.map((column) => [column.id ?? "", shown.includes(column.id ?? "")]),
  );
  const toggle = (run: RunRow, on: boolean) => {
    onSelect(on ? [...selected, run.id] : selected.filter((id) => id !== run.id));
  };
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
  useEffect(() => {
    // Another page (or order) of runs: read it from its first row.
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [runs]);
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
  const visibleColumns = table.getVisibleLeafColumns().length + 1;

  return (
    <div className="table-scroller" ref={scroller} tabIndex={0} aria-label="Runs">
      <table className="data-table runs-table">
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              <th scope="col" className="select-cell">
                <span className="visually-hidden">Select to compare</span>
              </th>
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
              <tr key={row.id} data-run-id={row.id} data-number={row.original.number}>
                <td className="select-cell">
                  <input
                    type="checkbox"
                    aria-label={`Select ${runLabel(row.original)} to compare`}
                    checked={selected.includes(row.id)}
                    onChange={(event) => {
                      toggle(row.original, event.target.checked);
                    }}
                  />
                </td>
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
