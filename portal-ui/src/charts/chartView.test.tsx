import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, useLocation } from "react-router";
import { describe, expect, it } from "vitest";
import { ChartToolbar } from "./ChartToolbar";
import { type ChartLine, plotLines, xOf } from "./chartSeries";
import { clampSmoothing, readChartView, useChartView, writeChartView } from "./chartView";
import { MetricChart } from "./MetricChart";
import { smooth } from "./smoothing";

describe("smooth", () => {
  it("is a debiased exponential moving average: a constant stays itself from the start", () => {
    for (const value of smooth([2, 2, 2], 0.9)) expect(value).toBeCloseTo(2, 12);
    const [first, second, third] = smooth([0, 1, 1], 0.5);
    expect(first).toBe(0);
    expect(second).toBeCloseTo(0.5 / 0.75); // (0.5·0 + 0.5·1) / (1 − 0.5²)
    expect(third).toBeCloseTo(0.75 / 0.875);
  });

  it("leaves the values as logged at weight 0", () => {
    expect(smooth([3, 1, 2], 0)).toEqual([3, 1, 2]);
  });
});

describe("the chart view in the URL", () => {
  it("reads smoothing and x axis, refusing what a hand-edited URL gets wrong", () => {
    expect(readChartView(new URLSearchParams("smooth=0.6&x=relative"))).toEqual({ smoothing: 0.6, x: "relative" });
    expect(readChartView(new URLSearchParams("smooth=7&x=days"))).toEqual({ smoothing: 0.99, x: "step" });
    expect(readChartView(new URLSearchParams("smooth=abc"))).toEqual({ smoothing: 0, x: "step" });
    expect(clampSmoothing(0.456)).toBe(0.46);
    expect(clampSmoothing(-1)).toBe(0);
  });

  it("writes only what differs from the default, keeping the other parameters", () => {
    const written = writeChartView(new URLSearchParams("tab=log&smooth=0.3"), { smoothing: 0, x: "wall" });
    expect(written.toString()).toBe("tab=log&x=wall");
  });
});

describe("x axis modes", () => {
  const line: ChartLine = { name: "loss", points: [[0, 4], [10, 2], [20, 1]], times: [100, 103, 110] };

  it("puts each point at its step, its time or its time since the start", () => {
    expect(xOf(line, "step", 0)).toEqual([0, 10, 20]);
    expect(xOf(line, "wall", 0)).toEqual([100, 103, 110]);
    expect(xOf(line, "relative", 100)).toEqual([0, 3, 10]);
    expect(xOf({ name: "old", points: [[0, 1]] }, "wall", 0)).toEqual([null]);
  });

  it("draws a smoothed line over its faint raw points", () => {
    const plot = plotLines([line], { smoothing: 0.5, x: "relative" }, 100);
    expect(plot.lines).toEqual([
      { label: "loss (raw)", line: 0, faint: true },
      { label: "loss", line: 0, faint: false },
    ]);
    expect(plot.data[0]).toEqual([0, 3, 10]);
    expect(plot.data[1]).toEqual([4, 2, 1]);
    expect(plot.data[2]?.[0]).toBe(4);
    expect(plot.data[2]?.[1]).toBeCloseTo((0.5 * (0.5 * 4) + 0.5 * 2) / (1 - 0.5 ** 2));
    expect(plotLines([line], { smoothing: 0, x: "step" }, 0).lines).toHaveLength(1);
  });
});

function Page({ lines }: { lines: ChartLine[] }) {
  const [view, setView] = useChartView();
  const location = useLocation();
  return (
    <>
      <ChartToolbar view={view} onChange={setView} />
      <MetricChart title="loss" lines={lines} view={view} startS={100} />
      <p data-testid="search">{location.search}</p>
    </>
  );
}

describe("ChartToolbar", () => {
  const lines: ChartLine[] = [{ name: "loss", points: [[0, 4], [1, 2]], times: [100, 160] }];

  it("sets smoothing and x axis for the page's charts and keeps them in the URL", () => {
    const { container } = render(
      <MemoryRouter initialEntries={["/runs/r1?smooth=0.25"]}>
        <Page lines={lines} />
      </MemoryRouter>,
    );
    const slider = screen.getByLabelText<HTMLInputElement>("Smoothing");
    expect(slider.value).toBe("0.25");
    fireEvent.change(slider, { target: { value: "0.6" } });
    expect(screen.getByTestId("search").textContent).toBe("?smooth=0.6");
    const figure = screen.getByRole("figure");
    expect(figure.dataset.smoothing).toBe("0.6");
    expect(container.querySelector(".u-legend")?.textContent).toContain("loss (raw)");

    const axis = screen.getByLabelText<HTMLSelectElement>("X axis");
    fireEvent.change(axis, { target: { value: "relative" } });
    expect(screen.getByTestId("search").textContent).toBe("?smooth=0.6&x=relative");
    expect(figure.dataset.xAxis).toBe("relative");
    expect(container.querySelector(".u-legend")?.textContent).toContain("time since start");
    expect(container.querySelectorAll(".uplot")).toHaveLength(1);

    fireEvent.change(slider, { target: { value: "0" } });
    expect(screen.getByTestId("search").textContent).toBe("?x=relative");
    expect(screen.getByRole("group", { name: "Chart settings" })).toBeTruthy();
  });
});
