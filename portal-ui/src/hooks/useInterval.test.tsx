import { renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useInterval } from "./useInterval";

describe("useInterval", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ticks every interval while active and stops when no longer active", () => {
    const tick = vi.fn();
    const { rerender } = renderHook(({ active }) => {
      useInterval(tick, 1000, active);
    }, { initialProps: { active: true } });
    vi.advanceTimersByTime(3500);
    expect(tick).toHaveBeenCalledTimes(3);
    rerender({ active: false });
    vi.advanceTimersByTime(5000);
    expect(tick).toHaveBeenCalledTimes(3);
  });

  it("calls the latest function without restarting the timer", () => {
    const calls: string[] = [];
    const { rerender } = renderHook(({ name }) => {
      useInterval(() => calls.push(name), 1000);
    }, { initialProps: { name: "first" } });
    vi.advanceTimersByTime(600);
    rerender({ name: "second" });
    vi.advanceTimersByTime(400); // the timer kept its start: it fires at 1000 ms
    expect(calls).toEqual(["second"]);
  });

  it("stops when the page is left", () => {
    const tick = vi.fn();
    const { unmount } = renderHook(() => {
      useInterval(tick, 1000);
    });
    unmount();
    vi.advanceTimersByTime(5000);
    expect(tick).not.toHaveBeenCalled();
  });
});
