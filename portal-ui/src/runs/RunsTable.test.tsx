import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunRow } from "../api/types";
import { choosableColumns, defaultColumns, pageColumns } from "./columns";
import { paramsFromView, serverSortOf, viewFromParams } from "./runQuery";
import { RunsTable } from "./RunsTable";

function runs(count: number): RunRow[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `run-${index}`,
    experiment: "flowers",
    experiment_id: "e1",
    number: index + 1,
    display_name: `trial-${index}`,
    status: index % 2 ? "Failed" : "Completed",
    parent_id: null,
    compute_target: "local",
    user: "ana",
    created_at: "2026-01-02T03:04:05+00:00",
    started_at: "2026-01-02T03:04:05+00:00",
    ended_at: "2026-01-02T03:05:05+00:00",
    heartbeat_at: null,
    error: index % 2 ? "out of memory" : null,
    source: { script: "train.py", arguments: [], git_commit: null, git_dirty: null, git_repository: null },
    handle: null,
    attempt: 1,
    queued_at: null,
    status_detail: null,
    metrics: { accuracy: index / 1000 },
    params: { learning_rate: String(index / 100) },
    tags: { team: "vision" },
  }));
}

function table(props: Partial<Parameters<typeof RunsTable>[0]> = {}) {
  const sorts: [string, boolean][] = [];
  const selections: string[][] = [];
  const page = runs(1000);
  const columns = pageColumns(["accuracy"], page, null);
  const view = render(
    <MemoryRouter>
      <RunsTable
        runs={page}
        columns={columns}
        shown={[...defaultColumns(columns, page), "number"]}
        sort="created"
        descending
        onSort={(sort, descending) => sorts.push([sort, descending])}
        showExperiment
        selected={["run-1"]}
        onSelect={(ids) => selections.push(ids)}
        {...props}
      />
    </MemoryRouter>,
  );
  return { ...view, sorts, selections };
}

describe("RunsTable", () => {
  // jsdom lays nothing out: the scrolling box gets a window's height, as in a browser.
  const clientHeight = Object.getOwnPropertyDescriptor(Element.prototype, "clientHeight");
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, "clientHeight", {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains("table-scroller") ? 720 : 0;
      },
    });
  });
  afterAll(() => {
    if (clientHeight) Object.defineProperty(Element.prototype, "clientHeight", clientHeight);
    delete (HTMLElement.prototype as { clientHeight?: number }).clientHeight;
  });

  it("draws only the rows in sight of a 1,000-run page", () => {
    const { container } = table();
    const drawn = container.querySelectorAll("tbody tr[data-run-id]");
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn.length).toBeLessThan(100);
    expect(within(drawn[0] as HTMLElement).getByRole("link").textContent).toBe("trial-0");
    expect(drawn[0]?.querySelector("a")?.getAttribute("href")).toBe("/runs/run-0");
    // Numbers repeat across experiments: the all-runs table says whose run it is.
    expect(drawn[0]?.querySelector(".run-ref")?.textContent).toBe("flowers #1");
  });

  it("ticks runs to compare", () => {
    const { selections } = table();
    const first = screen.getByRole("checkbox", { name: "Select trial-0 to compare" });
    const second = screen.getByRole<HTMLInputElement>("checkbox", {
      name: "Select trial-1 to compare",
    });
    expect(second.checked).toBe(true);
    fireEvent.click(first);
    expect(selections).toEqual([["run-1", "run-0"]]);
  });

  it("keeps the creation time on one line, the whole date on hover", () => {
    const { container } = table();
    const time = container.querySelector("tbody tr[data-run-id] time");
    expect(time?.getAttribute("dateTime")).toBe("2026-01-02T03:04:05+00:00");
    expect(time?.getAttribute("title")).toMatch(/2026/);
    expect(time?.className).toBe("nowrap");
  });

  it("asks the server for the order of a sortable column, and marks the current one", () => {
    const { sorts } = table();
    expect(screen.getByRole("columnheader", { name: /Created/ }).getAttribute("aria-sort")).toBe(
      "descending",
    );
    fireEvent.click(screen.getByRole("button", { name: "accuracy" }));
    fireEvent.click(screen.getByRole("button", { name: /Created/ }));
    expect(sorts).toEqual([
      ["metric:accuracy", false],
      ["created", false],
    ]);
    // The server cannot sort by user: no button.
    expect(within(screen.getByRole("columnheader", { name: "User" })).queryByRole("button")).toBeNull();
  });

  it("shows the columns the reader chose, params and tags among them", () => {
    const { container } = table({
      shown: ["display_name", "param:learning_rate", "tag:team", "error"],
      showExperiment: false,
    });
    const headers = screen.getAllByRole("columnheader").map((header) => header.dataset.column);
    expect(headers).toEqual([undefined, "display_name", "param:learning_rate", "tag:team", "error"]);
    const cells = [...container.querySelectorAll("tbody tr[data-run-id='run-1'] td")];
    expect(cells.map((cell) => cell.textContent)).toEqual([
      "",
      "trial-1 #2",
      "0.01",
      "vision",
      "out of memory",
    ]);
  });
});

describe("the runs view in the URL", () => {
  it("reads back what it writes", () => {
    const params = new URLSearchParams(
      "experiment=flowers&status=Failed&status=Running&tag=team%3Dvision&tag=stage%3Ddev" +
        "&metric=accuracy%3E0.9&sort=metric%3Aaccuracy&order=asc&offset=200&limit=500" +
        "&col=display_name&col=param%3Abatch%2Csize&col=tag%3Ateam",
    );
    const view = viewFromParams(params);
    expect(view.query).toEqual({
      experiment: "flowers",
      statuses: ["Failed", "Running"],
      tags: ["team=vision", "stage=dev"],
      metrics: ["accuracy>0.9"],
      sort: "metric:accuracy",
      descending: false,
      offset: 200,
      limit: 500,
    });
    expect(view.columns).toEqual(["display_name", "param:batch,size", "tag:team"]);
    expect(viewFromParams(paramsFromView(view))).toEqual(view);
    expect(paramsFromView(view).toString()).toBe(params.toString());
  });

  it("writes nothing for the default view, and keeps an empty choice of columns", () => {
    const fresh = viewFromParams(new URLSearchParams());
    expect(fresh.columns).toBeNull();
    expect(paramsFromView(fresh).toString()).toBe("");
    const none = paramsFromView({ ...fresh, columns: [] });
    expect(viewFromParams(none).columns).toEqual([]);
  });

  it("offers a page's params and tags, and the columns a shared view names", () => {
    const page = runs(3);
    const columns = pageColumns(["accuracy"], page, ["param:seed", "metric:loss"]);
    expect(columns).toEqual({
      metrics: ["accuracy", "loss"],
      params: ["learning_rate", "seed"],
      tags: ["team"],
    });
    const ids = choosableColumns(columns, false).map((column) => column.id);
    expect(ids).not.toContain("experiment");
    expect(ids.at(-1)).toBe("error");
    // By default: a few metrics, no params or tags, the failure reason where a run failed.
    expect(defaultColumns(columns, page)).toEqual([
      "display_name",
      "status",
      "created",
      "duration",
      "user",
      "compute",
      "metric:accuracy",
      "metric:loss",
      "error",
    ]);
  });

  it("maps columns to the server's sort keys", () => {
    expect(serverSortOf("display_name")).toBe("display_name");
    expect(serverSortOf("metric:loss")).toBe("metric:loss");
    expect(serverSortOf("user")).toBeNull();
  });
});
