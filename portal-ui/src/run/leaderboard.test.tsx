import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import type { RunRow } from "../api/types";
import { FeatureImportanceChart } from "./FeatureImportance";
import { parseGuardrails } from "./guardrails";
import { TableGuardrailsReport } from "./GuardrailsReport";
import { barShare, parseImportance } from "./importance";
import { Leaderboard } from "./Leaderboard";
import {
  AUTOML_TITLE,
  automlBoard,
  bestFirst,
  type Board,
  goalOf,
  IMAGE_AUTOML_TITLE,
  imageAutomlBoard,
  nextSort,
  parentKind,
  parseSweepLeaderboard,
  sortRows,
} from "./leaderboard";

// As services/sweeps/leaderboard.py writes it: ranked trials first, then the others by number.
const SWEEP = {
  primary_metric: "val_loss",
  goal: "minimize",
  total_trials: 6,
  counts: { Completed: 3, Canceled: 1, Running: 1 },
  trials: [
    { trial: 2, run_id: "r2", display_name: "s_trial_2", status: "Completed", params: { lr: 0.01, opt: "adam" }, value: 0.2, ranked: true, reason: null },
    { trial: 0, run_id: "r0", display_name: "s_trial_0", status: "Completed", params: { lr: 0.1, opt: "sgd" }, value: 0.5, ranked: true, reason: null },
    { trial: 3, run_id: "r3", display_name: "s_trial_3", status: "Completed", params: { lr: 0.001, opt: "adam" }, value: 0.9, ranked: true, reason: null },
    { trial: 1, run_id: "r1", display_name: "s_trial_1", status: "Canceled", params: { lr: 1, opt: "sgd" }, value: 3.5, ranked: false, reason: "bandit policy: val_loss 3.5 at interval 2 is outside the slack of the best 0.6" },
    { trial: 4, run_id: "r4", display_name: "s_trial_4", status: "Running", params: { lr: 0.05, opt: "sgd" }, value: "NaN", ranked: false, reason: null },
  ],
};

function sweepBoard(): Board {
  const parsed = parseSweepLeaderboard(SWEEP);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function child(id: string, family: string, status: RunRow["status"], metrics: RunRow["metrics"], error: string | null = null): RunRow {
  return {
    id,
    experiment: "tables",
    experiment_id: "e1",
    number: 1,
    display_name: family,
    status,
    parent_id: "parent",
    compute_target: "local",
    user: "ana",
    created_at: "2026-12-06T10:00:00Z",
    started_at: null,
    ended_at: null,
    heartbeat_at: null,
    error,
    source: { script: null, arguments: [], git_commit: null, git_dirty: null, git_repository: null },
    handle: null,
    attempt: 1,
    queued_at: null,
    status_detail: null,
    metrics,
    params: {},
    tags: { automl_family: family },
  };
}

describe("parentKind", () => {
  it("tells a sweep by its sweep.* properties and AutoML by its source's title", () => {
    const source = { script: null };
    expect(parentKind({ properties: { "sweep.primary_metric": "acc" }, source })).toBe("sweep");
    expect(parentKind({ properties: {}, source: { script: AUTOML_TITLE } })).toBe("automl");
    expect(parentKind({ properties: {}, source: { script: IMAGE_AUTOML_TITLE } })).toBe("automl-images");
    expect(parentKind({ properties: {}, source: { script: "train.py" } })).toBeNull();
  });

  it("reads the goal, or for AutoML's metrics takes errors and losses as lower-is-better", () => {
    expect(goalOf("minimize", "accuracy")).toBe("minimize");
    expect(goalOf(undefined, "accuracy")).toBe("maximize");
    expect(goalOf(undefined, "root_mean_squared_error")).toBe("minimize");
    expect(goalOf(undefined, "log_loss")).toBe("minimize");
  });
});

describe("parseSweepLeaderboard", () => {
  it("reads the trials with their params as text, a NaN value as none, and the reasons", () => {
    const board = sweepBoard();
    expect(board.goal).toBe("minimize");
    expect(board.paramNames).toEqual(["lr", "opt"]);
    expect(board.rows.map((row) => [row.number, row.value])).toEqual([[2, 0.2], [0, 0.5], [3, 0.9], [1, 3.5], [4, null]]);
    expect(board.rows[0]?.params).toEqual({ lr: "0.01", opt: "adam" });
    expect(board.rows[3]?.reason).toContain("bandit policy");
  });

  it.each([
    [null, "it is not a JSON object"],
    [{ trials: [] }, 'its "primary_metric" is not a name'],
    [{ primary_metric: "acc", trials: "all" }, 'its "trials" is not a list'],
  ])("refuses %j in one line: %s", (data, reason) => {
    expect(parseSweepLeaderboard(data)).toEqual({ ok: false, reason });
  });
});

describe("sortRows", () => {
  const numbers = (board: Board, sort: ReturnType<typeof bestFirst>) => sortRows(board.rows, sort).map((row) => row.number);

  it("puts the best first by the goal, the unranked trials after, one without a value last", () => {
    const board = sweepBoard();
    expect(numbers(board, bestFirst("minimize"))).toEqual([2, 0, 3, 1, 4]);
    expect(numbers(board, { column: "value", descending: true })).toEqual([3, 0, 2, 1, 4]);
  });

  it("sorts by a numeric param as numbers and a text one as text, ties by trial number", () => {
    const board = sweepBoard();
    expect(numbers(board, { column: "param:lr", descending: false })).toEqual([3, 2, 4, 0, 1]);
    expect(numbers(board, { column: "param:opt", descending: false })).toEqual([2, 3, 0, 1, 4]);
    expect(numbers(board, { column: "number", descending: true })).toEqual([4, 3, 2, 1, 0]);
  });

  it("flips the current column; another column starts ascending, the metric best first", () => {
    const start = bestFirst("maximize");
    expect(start).toEqual({ column: "value", descending: true });
    expect(nextSort(start, "value", "maximize")).toEqual({ column: "value", descending: false });
    expect(nextSort(start, "param:lr", "maximize")).toEqual({ column: "param:lr", descending: false });
    expect(nextSort({ column: "status", descending: false }, "value", "minimize")).toEqual(bestFirst("minimize"));
  });
});

describe("automlBoard", () => {
  it("takes each family's best value from its child run, and the ensemble from the final leaderboard", () => {
    const children = [
      child("c1", "lgbm", "Completed", { best_accuracy: 0.91, trials: 12 }),
      child("c2", "rf", "Completed", { best_accuracy: 0.94, trials: 7 }),
      child("c3", "knn", "Failed", {}, "no knn trial finished within 3.0 s"),
    ];
    const final = {
      metric: "accuracy",
      exported: "voting_ensemble",
      models: [
        { family: "voting_ensemble", estimator: "VotingClassifier", trials: 2, accuracy: 0.95 },
        { family: "rf", estimator: "RandomForestClassifier", trials: 7, accuracy: 0.94 },
      ],
    };
    const board = automlBoard({ params: { primary_metric: "accuracy" } }, children, final);
    expect(board.goal).toBe("maximize");
    const sorted = sortRows(board.rows, bestFirst(board.goal));
    expect(sorted.map((row) => [row.label, row.value, row.runId])).toEqual([
      ["voting_ensemble", 0.95, null],
      ["rf", 0.94, "c2"],
      ["lgbm", 0.91, "c1"],
      ["knn", null, "c3"],
    ]);
    expect(sorted[3]?.reason).toBe("no knn trial finished within 3.0 s");
    expect(sorted[2]?.params).toEqual({ family: "lgbm", trials: "12" });
  });
});

describe("imageAutomlBoard", () => {
  it("ranks each image candidate by its best validation accuracy, with its backbone, rate and epochs", () => {
    const candidate = (id: string, key: string, status: RunRow["status"], accuracy: number | null, error: string | null = null): RunRow => ({
      ...child(id, key, status, accuracy === null ? {} : { best_validation_accuracy: accuracy }, error),
      params: { learning_rate: "0.01", epochs: "50", fine_tune: "False" },
      tags: { automl_candidate: key, backbone: key.split(" ")[0] ?? "" },
    });
    const children = [
      candidate("c1", "resnet18 lr=0.01 epochs=50", "Completed", 0.75),
      candidate("c2", "mobilenet lr=0.01 epochs=50", "Completed", 0.875),
      candidate("c3", "resnet18 lr=0.01 epochs=50", "Failed", null, "preempted, stopped after epoch 3"),
      { ...child("c4", "stray", "Completed", {}), tags: {} }, // not a candidate: left out
    ];
    const board = imageAutomlBoard({ params: { primary_metric: "accuracy" } }, children);
    const sorted = sortRows(board.rows, bestFirst(board.goal));
    expect(board.goal).toBe("maximize");
    expect(sorted.map((row) => [row.label, row.value, row.ranked])).toEqual([
      ["mobilenet lr=0.01 epochs=50", 0.875, true],
      ["resnet18 lr=0.01 epochs=50", 0.75, true],
      ["resnet18 lr=0.01 epochs=50", null, false],
    ]);
    expect(sorted[0]?.params).toEqual({ backbone: "mobilenet", learning_rate: "0.01", epochs: "50", fine_tune: "False" });
    expect(sorted[2]?.reason).toBe("preempted, stopped after epoch 3");
  });
});

describe("Leaderboard", () => {
  const cells = (column: number) =>
    [...document.querySelectorAll("#leaderboard tbody tr")].map((row) => row.querySelectorAll("td")[column]?.textContent);

  it("lists the trials best first, each linking to its run, the canceled one with its reason", () => {
    render(
      <MemoryRouter>
        <Leaderboard board={sweepBoard()} />
      </MemoryRouter>,
    );
    expect(cells(0)).toEqual(["2", "0", "3", "1", "4"]);
    expect(screen.getByRole("link", { name: "s_trial_2" }).getAttribute("href")).toBe("/runs/r2");
    expect(document.querySelector("tr.best-row")?.getAttribute("data-run-id")).toBe("r2");
    expect(document.querySelector("tr[data-run-id=r1] [data-field=reason]")?.textContent).toContain("bandit policy");
    expect(document.querySelector("th[data-column=value]")?.getAttribute("aria-sort")).toBe("ascending");
    // A numeric param aligns right, a text one left.
    expect(document.querySelector("th[data-column='param:lr']")?.className).toBe("numeric");
    expect(document.querySelector("th[data-column='param:opt']")?.className).toBe("");
  });

  it("sorts by a column when its header is clicked, and the other way on a second click", () => {
    render(
      <MemoryRouter>
        <Leaderboard board={sweepBoard()} />
      </MemoryRouter>,
    );
    fireEvent.click(screen.getByRole("button", { name: "lr" }));
    expect(cells(0)).toEqual(["3", "2", "4", "0", "1"]);
    fireEvent.click(screen.getByRole("button", { name: /^lr/ }));
    expect(cells(0)).toEqual(["1", "0", "4", "2", "3"]);
    expect(document.querySelector("th[data-column='param:lr']")?.getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(screen.getByRole("button", { name: "val_loss" }));
    expect(cells(0)).toEqual(["2", "0", "3", "1", "4"]);
  });
});

describe("feature importance", () => {
  const REPORT = {
    metric: "accuracy",
    rows: 150,
    repeats: 5,
    features: [
      { column: "sepal_width", importance: 0.01, std: 0.005 },
      { column: "petal_length", importance: 0.4, std: 0.05 },
      { column: "noise", importance: -0.02, std: 0.01 },
      { column: "broken", importance: "high" },
    ],
  };

  it("reads the columns most important first, skipping entries without a number", () => {
    const parsed = parseImportance(REPORT);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.value.features.map((item) => item.column)).toEqual(["petal_length", "sepal_width", "noise"]);
    expect(parseImportance({ metric: "x" })).toEqual({ ok: false, reason: 'its "features" is not a list' });
  });

  it("draws a bar per column as long as its share of the largest; none for a harmless column", () => {
    expect(barShare(0.2, 0.4)).toBe(0.5);
    expect(barShare(-0.1, 0.4)).toBe(0);
    expect(barShare(0.1, 0)).toBe(0);
    const parsed = parseImportance(REPORT);
    if (!parsed.ok) throw new Error(parsed.reason);
    render(<FeatureImportanceChart report={parsed.value} />);
    const bars = [...document.querySelectorAll(".importance-row")].map((row) => [
      row.getAttribute("data-column"),
      Number(row.querySelector("rect")?.getAttribute("width")),
    ]);
    expect(bars.map(([column]) => column)).toEqual(["petal_length", "sepal_width", "noise"]);
    const widths = bars.map(([, width]) => width as number);
    expect(widths[0]).toBeGreaterThan(widths[1] ?? Infinity);
    expect(widths[2]).toBe(0);
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("Permutation importance of 3 columns");
  });
});

describe("TableGuardrailsReport", () => {
  it("shows each check of a table with its status, detail, columns and fix", () => {
    // As tabular/guardrails.py writes it (`CheckedTable.to_dict`).
    const check = (kind: string, status: string, detail: string, columns: string[] = [], fix = "") => ({
      kind, status, detail, fix, columns, path: null, label: null,
    });
    const missing = check("missing_values", "Done", "imputed 3 missing values in 'age' with the median", ["age"]);
    const leak = check("label_leakage", "Alerted", "'target_copy' alone predicts the label", ["target_copy"], "drop it");
    const parsed = parseGuardrails({
      passed: true,
      summary: "guardrails passed: 150 rows, 4 features; handled or alerted: missing_values, label_leakage",
      task: "classification",
      row_count: 150,
      feature_count: 4,
      class_counts: { setosa: 50, versicolor: 50, virginica: 50 },
      checks: [check("constant_columns", "Passed", "no constant column"), missing, leak],
      errors: [],
      warnings: [missing, leak],
      limits: { min_rows_per_class: 2 },
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    render(<TableGuardrailsReport report={parsed.value} />);
    const rows = [...document.querySelectorAll("#guardrails-checks tbody tr")].map((row) =>
      [...row.querySelectorAll("td")].map((cell) => cell.textContent),
    );
    expect(rows).toEqual([
      ["constant columns", "Passed", "no constant column", "", ""],
      ["missing values", "Done", "imputed 3 missing values in 'age' with the median", "age", ""],
      ["label leakage", "Alerted", "'target_copy' alone predicts the label", "target_copy", "drop it"],
    ]);
    expect(document.querySelector("[data-check=label_leakage] .badge")?.className).toBe("badge badge-warn");
    expect(document.querySelector("#guardrails-classes")?.textContent).toContain("setosa50");
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Data guardrails passed");
  });
});
