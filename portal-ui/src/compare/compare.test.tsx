import { fireEvent, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { comparedIds, compareUrl } from "./compareUrl";
import { diffRows } from "./diff";
import { DiffTable } from "./DiffTable";
import { axisOf, parallelData, type ParallelRun, positionOn, rampColor } from "./parallel";
import { ParallelCoordinates, pathOf } from "./ParallelCoordinates";

const PARAMS: Record<string, string>[] = [
  { learning_rate: "0.001", epochs: "10", optimizer: "adam" },
  { learning_rate: "0.01", epochs: "10", optimizer: "sgd", seed: "7" },
];

describe("the params diff", () => {
  it("has a row per key of any run, marking those the runs disagree on", () => {
    expect(diffRows(PARAMS)).toEqual([
      { key: "epochs", values: ["10", "10"], differs: false },
      { key: "learning_rate", values: ["0.001", "0.01"], differs: true },
      { key: "optimizer", values: ["adam", "sgd"], differs: true },
      // One run lacks it: that differs too.
      { key: "seed", values: [undefined, "7"], differs: true },
    ]);
  });

  it("shows only the differing rows when asked", () => {
    render(
      <DiffTable
        id="params-diff"
        title="Parameters"
        runLabels={["slow (sweep #1)", "fast (sweep #2)"]}
        tables={PARAMS}
        show={(value) => value}
      />,
    );
    const table = screen.getByRole("table");
    const rowNames = () =>
      within(table)
        .getAllByRole("rowheader")
        .map((cell) => cell.textContent);
    expect(rowNames()).toEqual(["epochs", "learning_rate (differs)", "optimizer (differs)", "seed (differs)"]);
    expect(table.querySelectorAll("tr.differs")).toHaveLength(3);
    expect(within(table).getAllByRole("columnheader").map((cell) => cell.textContent)).toEqual([
      "Name",
      "slow (sweep #1)",
      "fast (sweep #2)",
    ]);
    fireEvent.click(screen.getByRole("checkbox", { name: /Only differences \(3 of 4\)/ }));
    expect(rowNames()).not.toContain("epochs");
    expect(rowNames()).toHaveLength(3);
  });
});

const RUNS: ParallelRun[] = [
  {
    id: "a",
    label: "slow (sweep #1)",
    params: { learning_rate: "0.001", optimizer: "adam" },
    metrics: { accuracy: 0.5, loss: 0.9 },
  },
  {
    id: "b",
    label: "fast (sweep #2)",
    params: { learning_rate: "0.01", optimizer: "sgd" },
    metrics: { accuracy: 0.9, loss: "NaN" },
  },
  {
    id: "c",
    label: "mid (sweep #3)",
    params: { learning_rate: "0.0055", optimizer: "adam", note: "x" },
    metrics: { accuracy: 0.7 },
  },
];

describe("parallel coordinates' data", () => {
  it("makes numeric axes of numbers and categorical ones of the rest", () => {
    expect(axisOf("lr", ["0.1", "1e-3", undefined])).toEqual({
      kind: "numeric",
      name: "lr",
      min: 0.001,
      max: 0.1,
    });
    expect(axisOf("opt", ["sgd", "adam", "sgd", "3"])).toEqual({
      kind: "categorical",
      name: "opt",
      categories: ["3", "adam", "sgd"],
    });
  });

  it("places each run on each axis, the metric's axis last, and colours it by the metric", () => {
    const data = parallelData(RUNS, "accuracy");
    expect(data.axes.map((axis) => `${axis.kind}:${axis.name}`)).toEqual([
      "numeric:learning_rate",
      "categorical:note",
      "categorical:optimizer",
      "numeric:accuracy",
    ]);
    const [slow, fast, mid] = data.lines;
    expect(slow?.positions).toEqual([0, null, 0, 0]);
    expect(fast?.positions).toEqual([1, null, 1, 1]);
    expect(mid?.positions.map((at) => (at === null ? null : Number(at.toFixed(6))))).toEqual([
      0.5, 0.5, 0, 0.5,
    ]);
    expect(slow?.color).toBe(rampColor(0));
    expect(fast?.color).toBe(rampColor(1));
    expect(slow?.color).not.toBe(fast?.color);
  });

  it("leaves a run without a finite value of the metric grey and off its axis", () => {
    const data = parallelData(RUNS, "loss");
    expect(data.lines.map((line) => line.metric)).toEqual([0.9, null, null]);
    expect(data.lines[1]?.positions.at(-1)).toBeNull();
    expect(data.lines[1]?.color).toBe("#9ca3af");
    expect(positionOn(data.axes.at(-1) ?? axisOf("x", []), 0.9)).toBe(0.5); // a lone value
  });

  it("breaks a run's line where it has no value", () => {
    const x = (index: number) => index * 10;
    const y = (position: number) => position * 100;
    expect(pathOf([0, 1, null, 0.5, 0], x, y)).toBe("M0,0 L10,100 M30,50 L40,0");
  });

  it("draws a line per run, the metric chosen from a select", () => {
    const chosen: string[] = [];
    const { container } = render(
      <ParallelCoordinates
        runs={RUNS}
        metrics={["accuracy", "loss"]}
        metric="accuracy"
        onMetric={(metric) => chosen.push(metric)}
      />,
    );
    expect(container.querySelectorAll("path.parallel-line")).toHaveLength(3);
    expect(container.querySelector("[data-axis='optimizer']")?.getAttribute("data-kind")).toBe(
      "categorical",
    );
    fireEvent.change(screen.getByLabelText("Colour by metric"), { target: { value: "loss" } });
    expect(chosen).toEqual(["loss"]);
  });
});

describe("the compare page's address", () => {
  it("lists the runs once each, in order", () => {
    expect(compareUrl(["r1", "r2"])).toBe("/compare?runs=r1,r2");
    expect(comparedIds(new URLSearchParams("runs=r2,r1,r2,,r3"))).toEqual(["r2", "r1", "r3"]);
  });
});
