// The runs table's query in the page's URL, so a view can be bookmarked and shared:
// ?experiment=flowers&status=Failed&tag=team%3Dvision&metric=accuracy%3E0.9&sort=metric:accuracy
// &order=asc&offset=100&limit=100&col=display_name&col=param:lr. Names follow the server's
// route (GET /api/v1/runs-query), which checks every value; `col` (each column shown, as the
// reader chose them) is only written once the reader changed the default set.
import type { RunsQuery } from "../api/endpoints";
import type { RunStatus } from "../api/types";

export const PAGE_SIZES = [50, 100, 500, 1000] as const;
export const DEFAULT_LIMIT = 100;
export const METRIC_SORT_PREFIX = "metric:";
export const PARAM_PREFIX = "param:";
export const TAG_PREFIX = "tag:";

export interface RunsView {
  query: RunsQuery;
  columns: string[] | null; // ids of the columns shown; null: the default set
}

export function viewFromParams(params: URLSearchParams): RunsView {
  const limit = Number(params.get("limit") ?? DEFAULT_LIMIT);
  const offset = Number(params.get("offset") ?? 0);
  return {
    query: {
      experiment: params.get("experiment") || null,
      statuses: params.getAll("status") as RunStatus[],
      tags: params.getAll("tag"),
      metrics: params.getAll("metric"),
      sort: params.get("sort") ?? "created",
      descending: params.get("order") !== "asc",
      offset: Number.isInteger(offset) && offset >= 0 ? offset : 0,
      limit: Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_LIMIT,
    },
    // A param's name may hold a comma: one `col` per column. A lone empty `col=`: none shown.
    columns: params.has("col") ? params.getAll("col").filter(Boolean) : null,
  };
}

export function paramsFromView({ query, columns }: RunsView): URLSearchParams {
  const params = new URLSearchParams();
  if (query.experiment) params.set("experiment", query.experiment);
  query.statuses.forEach((status) => {
    params.append("status", status);
  });
  query.tags.forEach((tag) => {
    params.append("tag", tag);
  });
  query.metrics.forEach((metric) => {
    params.append("metric", metric);
  });
  if (query.sort !== "created") params.set("sort", query.sort);
  if (!query.descending) params.set("order", "asc");
  if (query.offset > 0) params.set("offset", String(query.offset));
  if (query.limit !== DEFAULT_LIMIT) params.set("limit", String(query.limit));
  if (columns !== null) {
    if (columns.length === 0) params.set("col", "");
    columns.forEach((column) => {
      params.append("col", column);
    });
  }
  return params;
}

/** The server's sort key of a column, or null for a column it cannot sort by. */
export function serverSortOf(columnId: string): string | null {
  if (["created", "status", "number", "display_name"].includes(columnId)) return columnId;
  if (columnId.startsWith(METRIC_SORT_PREFIX)) return columnId;
  return null;
}

/** A change of filters or order starts again at the first page. */
export function withQuery(view: RunsView, change: Partial<RunsQuery>): RunsView {
  const paging = "offset" in change ? {} : { offset: 0 };
  return { ...view, query: { ...view.query, ...paging, ...change } };
}
