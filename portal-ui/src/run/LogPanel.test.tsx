import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonAnswer } from "../../test/fakeFetch";
import { LogPanel, STD_LOG } from "./LogPanel";
import { type LogEventSource, RECONNECT_MS, TAIL_BYTES } from "./useLogFollower";

// Before the API client is imported: it keeps the fetch it finds.
const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());

/** The browser's EventSource as the panel uses it: the test sends the server's events. */
class FakeEventSource implements LogEventSource {
  readyState = 0;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {}

  get offset(): number {
    return Number(new URL(this.url, "http://localhost").searchParams.get("offset"));
  }

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.readyState = 2;
  }

  send(type: string, data?: unknown): void {
    if (type === "open") this.readyState = 1;
    const event = new MessageEvent(type, { data: JSON.stringify(data ?? null) });
    act(() => {
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    });
  }
}

function renderLive(logSize = 0) {
  const opened: FakeEventSource[] = [];
  const open = (url: string) => {
    const source = new FakeEventSource(url);
    opened.push(source);
    return source;
  };
  render(
    <LogPanel runId="r1" live logs={[{ path: STD_LOG, size: logSize }]} openEventSource={open} />,
  );
  return opened;
}

function logBox(): HTMLPreElement {
  return document.querySelector<HTMLPreElement>("#log") as HTMLPreElement;
}

/** jsdom lays nothing out: give the log box a height, a content height and a scroll position. */
function measure(box: HTMLElement, contentHeight: number) {
  let top = 0;
  Object.defineProperty(box, "clientHeight", { configurable: true, value: 200 });
  Object.defineProperty(box, "scrollHeight", { configurable: true, value: contentHeight });
  Object.defineProperty(box, "scrollTop", {
    configurable: true,
    get: () => top,
    set: (value: number) => {
      top = value;
    },
  });
}

afterEach(() => {
  vi.useRealTimers();
  server.answers.clear();
});

describe("LogPanel", () => {
  it("follows a live log from its last 64 KiB and shows when the run has ended", () => {
    const [source] = renderLive(100_000);
    if (!source) throw new Error("no stream opened");
    expect(source.url).toContain("/api/v1/runs/r1/logs/stream?path=logs%2Fstd_log.txt");
    expect(source.offset).toBe(100_000 - TAIL_BYTES);
    source.send("open");
    expect(screen.getByRole("status").textContent).toMatch(/^Live/);
    source.send("log", { text: "epoch 1\n", offset: 100_008 });
    source.send("log", { text: "epoch 2\n", offset: 100_016 });
    expect(logBox().textContent).toBe("epoch 1\nepoch 2\n");
    expect(screen.getByRole("button", { name: "Show earlier output" })).toBeTruthy();

    source.send("end", { status: "Completed", offset: 100_016 });
    expect(source.readyState).toBe(2); // closed by the panel: no reconnecting to an ended run
    expect(screen.getByRole("status").textContent).toBe(
      "The run ended (Completed): the log is complete.",
    );
    expect(logBox().dataset.ended).toBe("Completed");
  });

  it("lets the browser resume a dropped stream, and reopens a closed one from the last offset", () => {
    vi.useFakeTimers();
    const opened = renderLive();
    const first = opened[0] as FakeEventSource;
    first.send("open");
    first.send("log", { text: "a\n", offset: 2 });
    first.readyState = 0; // the browser is reconnecting (it sends Last-Event-ID itself)
    first.send("error");
    expect(screen.getByRole("status").textContent).toMatch(/reconnecting/);
    expect(opened).toHaveLength(1);

    first.readyState = 2; // refused or closed without an end: the panel tries again
    first.send("error");
    expect(screen.getByRole("status").textContent).toMatch(/^Disconnected/);
    act(() => {
      vi.advanceTimersByTime(RECONNECT_MS);
    });
    expect(opened).toHaveLength(2);
    const second = opened[1] as FakeEventSource;
    expect(second.offset).toBe(2);
    second.send("log", { text: "b\n", offset: 4 });
    expect(logBox().textContent).toBe("a\nb\n");
  });

  it("scrolls to the end as the log grows until the reader scrolls up", () => {
    const [source] = renderLive();
    if (!source) throw new Error("no stream opened");
    const box = logBox();
    measure(box, 1000);
    source.send("log", { text: "line\n".repeat(50), offset: 250 });
    expect(box.scrollTop).toBe(1000);
    const follow = screen.getByRole("checkbox", { name: "Follow" });
    expect((follow as HTMLInputElement).checked).toBe(true);

    box.scrollTop = 300; // the reader scrolls up
    fireEvent.scroll(box);
    expect((follow as HTMLInputElement).checked).toBe(false);
    measure(box, 1200);
    box.scrollTop = 300;
    source.send("log", { text: "more\n", offset: 255 });
    expect(box.scrollTop).toBe(300); // left where the reader is

    fireEvent.click(follow);
    expect(box.scrollTop).toBe(1200);
  });

  it("reads an ended run's log once, without a stream", async () => {
    server.answers.set(`/api/v1/runs/r1/logs?path=${STD_LOG}&offset=0`, jsonAnswer({ text: "done\n", offset: 5 }));
    server.answers.set(`/api/v1/runs/r1/logs?path=${STD_LOG}&offset=5`, jsonAnswer({ text: "", offset: 5 }));
    const open = vi.fn();
    render(<LogPanel runId="r1" live={false} logs={[{ path: STD_LOG, size: 5 }]} openEventSource={open} />);
    await screen.findByText("The log is complete.");
    expect(logBox().textContent).toBe("done\n");
    expect(open).not.toHaveBeenCalled();
  });

  it("shows earlier output a piece at a time", async () => {
    const size = TAIL_BYTES + 6;
    server.answers.set(
      `/api/v1/runs/r1/logs?path=${STD_LOG}&offset=0`,
      jsonAnswer({ text: "first\nsecond\n", offset: 14 }),
    );
    const [source] = renderLive(size);
    if (!source) throw new Error("no stream opened");
    expect(source.offset).toBe(6);
    source.send("log", { text: "second\n", offset: 13 });
    fireEvent.click(screen.getByRole("button", { name: "Show earlier output" }));
    await screen.findByText(/first/);
    expect(logBox().textContent).toBe("first\nsecond\n");
    expect(screen.queryByRole("button", { name: "Show earlier output" })).toBeNull();
  });

  it("lists the other log files as choices, the job's own output first", () => {
    const opened: FakeEventSource[] = [];
    render(
      <LogPanel
        runId="r1"
        live
        logs={[{ path: "logs/worker-1.txt", size: 0 }]}
        openEventSource={(url) => {
          const source = new FakeEventSource(url);
          opened.push(source);
          return source;
        }}
      />,
    );
    const choices = screen.getAllByRole("button", { pressed: undefined }).filter((b) => b.hasAttribute("aria-pressed"));
    expect(choices.map((button) => button.textContent)).toEqual(["std_log.txt", "worker-1.txt"]);
    fireEvent.click(screen.getByRole("button", { name: "worker-1.txt" }));
    expect(opened.at(-1)?.url).toContain("path=logs%2Fworker-1.txt");
    expect(opened[0]?.readyState).toBe(2); // the first stream was closed
  });
});
