import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunRow } from "../api/types";
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
  const view = render(
    <MemoryRouter>
      <RunsTable
        runs={runs(1000)}
        metricColumns={["accuracy"]}
        sort="created"
        descending
        onSort={(sort, descending) => sorts.push([sort, descending])}
        hidden={[]}
        showExperiment
        {...props}
      />
    </MemoryRouter>,
  );
  return { ...view, sorts };
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

  it("hides the columns the reader chose to hide", () => {
    table({ hidden: ["user", "metric:accuracy"], showExperiment: false });
    const headers = screen.getAllByRole("columnheader").map((header) => header.dataset.column);
    expect(headers).not.toContain("user");
    expect(headers).not.toContain("metric:accuracy");
    expect(headers).not.toContain("experiment");
    expect(headers).toContain("error");
  });
});

describe("the runs view in the URL", () => {
  it("reads back what it writes", () => {
    const params = new URLSearchParams(
      "experiment=flowers&status=Failed&tag=team%3Dvision&metric=accuracy%3E0.9" +
        "&sort=metric%3Aaccuracy&order=asc&offset=200&limit=500&hide=user%2Ccompute",
    );
    const view = viewFromParams(params);
    expect(view.query).toEqual({
      experiment: "flowers",
      statuses: ["Failed"],
      tags: ["team=vision"],
      metrics: ["accuracy>0.9"],
      sort: "metric:accuracy",
      descending: false,
      offset: 200,
      limit: 500,
    });
    expect(view.hidden).toEqual(["user", "compute"]);
    expect(viewFromParams(paramsFromView(view))).toEqual(view);
  });

  it("maps columns to the server's sort keys", () => {
    expect(serverSortOf("display_name")).toBe("display_name");
    expect(serverSortOf("metric:loss")).toBe("metric:loss");
    expect(serverSortOf("user")).toBeNull();
  });
});
