import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { alignSeries, measureOf, planCharts } from "./chartSeries";
import { MetricChart } from "./MetricChart";
import type { MetricSeries } from "../api/types";

function series(points: [number, number][]): MetricSeries {
  const last = points.at(-1);
  return {
    points,
    count: points.length,
    non_finite: 0,
    downsampled: false,
    last: last === undefined ? null : last[1],
    times: points.map(([step]) => 1000 + step),
  };
}

describe("planCharts", () => {
  it("puts one-value metrics in the summary and train/validation pairs on one chart", () => {
    const plan = planCharts({
      train_loss: series([[0, 1], [1, 0.5]]),
      validation_loss: series([[0, 1.2], [1, 0.7]]),
      accuracy: series([[0, 0.5], [1, 0.6]]),
      val_accuracy: series([[0, 0.4], [1, 0.55]]),
      learning_rate: series([[0, 0.1], [1, 0.05]]),
      test_accuracy: series([[5, 0.93]]),
    });
    expect(plan.summary).toEqual([{ name: "test_accuracy", value: 0.93 }]);
    expect(plan.charts).toEqual([
      { title: "loss", metrics: ["train_loss", "validation_loss"] },
      { title: "accuracy", metrics: ["accuracy", "val_accuracy"] },
      { title: "learning_rate", metrics: ["learning_rate"] },
    ]);
    expect(plan.more).toEqual([]);
  });

  it("pairs slash-named splits and keeps all but loss, accuracy and learning rate behind More", () => {
    const twoPoints = series([[0, 1], [1, 2]]);
    const names = ["train/loss", "val/loss", "train/acc", "val/acc", "top1_accuracy"];
    const others = ["lr", "grad_norm", "epoch", "featurized_images", "throughput"];
    const plan = planCharts(Object.fromEntries([...names, ...others].map((n) => [n, twoPoints])));
    expect(plan.charts).toEqual([
      { title: "loss", metrics: ["train/loss", "val/loss"] },
      { title: "acc", metrics: ["train/acc", "val/acc"] },
      { title: "top1_accuracy", metrics: ["top1_accuracy"] },
      { title: "lr", metrics: ["lr"] },
    ]);
    expect(plan.more.map((chart) => chart.title)).toEqual([
      "epoch",
      "featurized_images",
      "grad_norm",
      "throughput",
    ]);
  });

  it("shows the first few charts when none is a loss, an accuracy or a learning rate", () => {
    const twoPoints = series([[0, 1], [1, 2]]);
    const names = ["a", "b", "c", "d", "e", "f"];
    const plan = planCharts(Object.fromEntries(names.map((n) => [n, twoPoints])));
    expect(plan.charts.map((chart) => chart.title)).toEqual(["a", "b", "c", "d"]);
    expect(plan.more.map((chart) => chart.title)).toEqual(["e", "f"]);
  });

  it("names what a metric measures without its split", () => {
    expect(measureOf("train_loss")).toBe("loss");
    expect(measureOf("loss_val")).toBe("loss");
    expect(measureOf("Validation_Accuracy")).toBe("Accuracy");
    expect(measureOf("train_")).toBe("train_");
    expect(measureOf("trainer_steps")).toBe("trainer_steps");
    expect(measureOf("val/loss")).toBe("loss");
    expect(measureOf("loss/train")).toBe("loss");
  });
});

describe("alignSeries", () => {
  it("merges the steps of every series, leaving gaps where one has no point", () => {
    expect(alignSeries([[[0, 1], [2, 3]], [[1, 5], [2, 6]]])).toEqual([
      [0, 1, 2],
      [1, null, 3],
      [null, 5, 6],
    ]);
  });
});

describe("MetricChart", () => {
  const lines = [
    { name: "train_loss", points: [[0, 1], [1, 0.5], [2, 0.25]] as [number, number][] },
    { name: "validation_loss", points: [[0, 1.1], [2, 0.4]] as [number, number][] },
  ];

  it("draws every line with uPlot and names them in its legend", () => {
    const { container } = render(<MetricChart title="loss" lines={lines} />);
    const figure = screen.getByRole("figure");
    expect(figure.dataset.points).toBe("5");
    expect(container.querySelectorAll(".uplot")).toHaveLength(1);
    const legend = container.querySelector(".u-legend");
    expect(legend?.textContent).toContain("train_loss");
    expect(legend?.textContent).toContain("validation_loss");
    expect(screen.getByRole("img").getAttribute("aria-label")).toContain(
      "validation_loss: 2 points, last 0.4000 at step 2",
    );
  });

  it("takes new points of a live run without making a second chart", () => {
    const { container, rerender } = render(<MetricChart title="loss" lines={lines} />);
    const more = [
      { name: "train_loss", points: [...(lines[0]?.points ?? []), [3, 0.2]] as [number, number][] },
      lines[1] ?? { name: "none", points: [] },
    ];
    rerender(<MetricChart title="loss" lines={more} />);
    expect(screen.getByRole("figure").dataset.points).toBe("6");
    expect(container.querySelectorAll(".uplot")).toHaveLength(1);
  });

  it("switches to a log scale, and offers none when a value is not positive", () => {
    const { container, rerender } = render(<MetricChart title="loss" lines={lines} />);
    const toggle = screen.getByLabelText<HTMLInputElement>("Log scale");
    expect(toggle.disabled).toBe(false);
    fireEvent.click(toggle);
    expect(toggle.checked).toBe(true);
    expect(container.querySelectorAll(".uplot")).toHaveLength(1); // remade, not added
    rerender(<MetricChart title="loss" lines={[{ name: "delta", points: [[0, -1], [1, 2]] }]} />);
    const refused = screen.getByLabelText<HTMLInputElement>("Log scale");
    expect(refused.disabled).toBe(true);
    expect(refused.checked).toBe(false);
  });

  it("removes its chart when it leaves the page", () => {
    const { container, unmount } = render(<MetricChart title="loss" lines={lines} />);
    const holder = container.querySelector(".chart-canvas");
    unmount();
    expect(holder?.querySelector(".uplot")).toBeFalsy();
  });
});
