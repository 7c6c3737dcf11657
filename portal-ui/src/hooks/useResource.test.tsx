import { act, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MetricSeriesRead } from "../api/types";
import { useMetricSeries } from "./useMetricSeries";
import { useResource } from "./useResource";

/** A read whose answer the test gives when it wants, as a slow server would. */
function pending<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe("useResource", () => {
  it("is loading, then holds the data", async () => {
    const answer = pending<string[]>();
    const { result } = renderHook(() => useResource(() => answer.promise, "experiments"));
    expect(result.current.loading).toBe(true);
    expect(result.current.data).toBeUndefined();
    await act(async () => {
      answer.resolve(["flowers"]);
      await answer.promise;
    });
    expect(result.current).toMatchObject({ loading: false, data: ["flowers"], error: undefined });
  });

  it("drops the answer of a read it no longer wants, and aborts it", async () => {
    const first = pending<string>();
    const second = pending<string>();
    const signals: AbortSignal[] = [];
    const { result, rerender } = renderHook(
      ({ key }: { key: string }) =>
        useResource((signal) => {
          signals.push(signal);
          return key === "page-1" ? first.promise : second.promise;
        }, key),
      { initialProps: { key: "page-1" } },
    );
    rerender({ key: "page-2" });
    expect(signals[0]?.aborted).toBe(true);
    await act(async () => {
      second.resolve("second page");
      await second.promise;
    });
    await act(async () => {
      first.resolve("first page"); // late: the reader has moved on
      await first.promise;
    });
    expect(result.current.data).toBe("second page");
    expect(result.current.loading).toBe(false);
  });

  it("reports an error, keeps the last data, and reads again on reload", async () => {
    let calls = 0;
    const { result } = renderHook(() =>
      useResource(() => {
        calls += 1;
        return calls === 2 ? Promise.reject(new Error("server down")) : Promise.resolve(calls);
      }, "thing"),
    );
    await waitFor(() => {
      expect(result.current.data).toBe(1);
    });
    act(() => {
      result.current.reload();
    });
    await waitFor(() => {
      expect(result.current.error?.message).toBe("server down");
    });
    expect(result.current.data).toBe(1);
    act(() => {
      result.current.reload();
    });
    await waitFor(() => {
      expect(result.current.data).toBe(3);
    });
    expect(result.current.error).toBeUndefined();
  });
});

describe("useMetricSeries", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const read = (version: string, changed: boolean, points: [number, number][]): MetricSeriesRead =>
    ({
      version,
      changed,
      series: changed
        ? {
            loss: {
              points,
              count: points.length,
              non_finite: 0,
              downsampled: false,
              last: 0,
              times: points.map(([step]) => 1000 + step),
            },
          }
        : {},
    });

  it("polls a live run with the last version, keeping the series when nothing changed", async () => {
    vi.useFakeTimers();
    const asked: (string | null)[] = [];
    const answers = [
      read("2", true, [[0, 1], [1, 0.5]]),
      read("2", false, []),
      read("3", true, [[0, 1], [1, 0.5], [2, 0.25]]),
    ];
    const reader = (_runId: string, version: string | null) => {
      asked.push(version);
      return Promise.resolve(answers[asked.length - 1] ?? read("3", false, []));
    };
    const { result } = renderHook(() => useMetricSeries(reader, "run-1", true, 1000));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(result.current.series?.loss?.points).toHaveLength(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(result.current.version).toBe("2");
    expect(result.current.series?.loss?.points).toHaveLength(2);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(result.current.series?.loss?.points).toHaveLength(3);
    expect(asked).toEqual([null, "2", "2"]);
  });

  it("reads an ended run once", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const reader = () => {
      calls += 1;
      return Promise.resolve(read("5", true, [[0, 1]]));
    };
    const { result } = renderHook(() => useMetricSeries(reader, "run-2", false, 1000));
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5000);
    });
    expect(calls).toBe(1);
    expect(result.current.series?.loss?.points).toEqual([[0, 1]]);
  });
});
