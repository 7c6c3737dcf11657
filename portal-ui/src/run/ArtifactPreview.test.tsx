import { fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bytesAnswer } from "../../test/fakeFetch";
import { ArtifactPreview, PREVIEW_BYTES, previewKind } from "./ArtifactPreview";
import { ArtifactsPanel } from "./ArtifactsPanel";

// Before the API client is imported: it keeps the fetch it finds.
const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());

const API = "/api/v1/runs/r1/artifacts";

afterEach(() => {
  server.answers.clear();
  server.asked.length = 0;
});

function preview(path: string, size: number | null = 10) {
  return render(<ArtifactPreview runId="r1" path={path} size={size} />);
}

describe("previewKind", () => {
  it("knows a file's preview by its name", () => {
    expect(["a.PNG", "b.jpeg", "c.json", "d.csv", "e.tsv", "f.log", "g.bin", "h.svg"].map(previewKind)).toEqual(
      ["image", "image", "json", "table", "table", "text", "unknown", "unknown"],
    );
  });
});

describe("ArtifactPreview", () => {
  it("shows an image from the API route, without reading it", () => {
    preview("outputs/evaluation/confusion_matrix.png", 2048);
    const image = screen.getByRole("img");
    expect(image.getAttribute("src")).toBe(`${API}/outputs/evaluation/confusion_matrix.png`);
    expect(screen.getByRole("link", { name: "Download (2.0 KiB)" }).getAttribute("download")).toBe(
      "confusion_matrix.png",
    );
    expect(server.asked).toEqual([]);
  });

  it("shows JSON as a tree whose deeper branches start folded", async () => {
    server.answers.set(
      `${API}/outputs/evaluation.json`,
      bytesAnswer(JSON.stringify({ accuracy: 0.9, per_class: [{ label: "daisy", f1: 0.8 }] })),
    );
    preview("outputs/evaluation.json");
    const tree = await screen.findByText("accuracy:", { exact: false });
    expect(tree.closest("#json-preview")).toBeTruthy();
    expect(screen.getByText("0.9")).toBeTruthy();
    expect(screen.queryByText('"daisy"')).toBeNull(); // two levels down: folded
    const entry = screen.getByText("0:").closest("summary");
    if (!entry) throw new Error("no folded entry");
    fireEvent.click(entry);
    (entry.parentElement as HTMLDetailsElement).open = true;
    fireEvent(entry.parentElement as HTMLElement, new Event("toggle"));
    expect(await screen.findByText('"daisy"')).toBeTruthy();
  });

  it("shows JSON that does not parse as text, saying so in a line", async () => {
    server.answers.set(`${API}/bad.json`, bytesAnswer("{not json"));
    preview("bad.json");
    expect(await screen.findByText(/^Not valid JSON/)).toBeTruthy();
    expect(document.querySelector("#text-preview")?.textContent).toBe("{not json");
  });

  it("shows a CSV file as a table of its first rows, quoted fields kept whole", async () => {
    const rows = Array.from({ length: 150 }, (_, index) => `img${index}.jpg,"daisy, white",${index}`);
    server.answers.set(`${API}/data.csv`, bytesAnswer(["path,label,n", ...rows].join("\n")));
    preview("data.csv");
    const table = await screen.findByRole("table");
    expect([...table.querySelectorAll("th")].map((th) => th.textContent)).toEqual(["path", "label", "n"]);
    expect(table.querySelectorAll("tbody tr")).toHaveLength(100);
    expect(table.querySelector("tbody tr td:nth-child(2)")?.textContent).toBe("daisy, white");
    expect(screen.getByText(/The first 100 rows/)).toBeTruthy();
  });

  it("shows text up to its first 256 KiB", async () => {
    server.answers.set(`${API}/logs/big.log`, bytesAnswer("x".repeat(PREVIEW_BYTES + 10)));
    preview("logs/big.log");
    await screen.findByText(/Only the first 256.0 KiB is shown/);
    expect(document.querySelector("#text-preview")?.textContent).toHaveLength(PREVIEW_BYTES);
  });

  it("offers only a download for a binary file", async () => {
    server.answers.set(`${API}/model.onnx`, bytesAnswer(new Uint8Array([8, 0, 1, 255, 0])));
    preview("model.onnx");
    expect(await screen.findByText("No preview for this kind of file: download it.")).toBeTruthy();
    expect(screen.getByRole("link", { name: /^Download/ }).getAttribute("href")).toBe(`${API}/model.onnx`);
  });

  it("shows an unknown suffix as text when its bytes are text", async () => {
    server.answers.set(`${API}/NOTES`, bytesAnswer("plain words\n"));
    preview("NOTES");
    expect((await screen.findByText("plain words")).id).toBe("text-preview");
  });

  it("says in a line when the server refuses", async () => {
    preview("missing.txt");
    expect((await screen.findByRole("alert")).textContent).toContain("no /api/v1/runs/r1/artifacts/missing.txt");
  });
});

describe("ArtifactsPanel", () => {
  const entries = [
    { path: "outputs/evaluation/evaluation.json", size: 100 },
    { path: "outputs/model.onnx", size: 4096 },
    { path: "logs/std_log.txt", size: 20 },
  ];

  it("lists folders and files, and opens the file named in the URL", async () => {
    server.answers.set(`${API}/outputs/evaluation/evaluation.json`, bytesAnswer('{"accuracy": 0.5}'));
    render(
      <MemoryRouter initialEntries={["/runs/r1?artifact=outputs/evaluation/evaluation.json"]}>
        <ArtifactsPanel runId="r1" entries={entries} />
      </MemoryRouter>,
    );
    // The folders above the open file are open: its link is there and marked current.
    const link = screen.getByRole("link", { name: "evaluation.json" });
    expect(link.getAttribute("aria-current")).toBe("true");
    expect(await screen.findByText("0.5")).toBeTruthy();
    expect(screen.getByRole("button", { name: /outputs\// }).getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByText("4.1 KiB in 2 files")).toBeTruthy();
  });

  it("opens a folder and links each file by its path in the URL", () => {
    render(
      <MemoryRouter initialEntries={["/runs/r1"]}>
        <ArtifactsPanel runId="r1" entries={entries} />
      </MemoryRouter>,
    );
    const folder = screen.getByRole("button", { name: /evaluation\// });
    expect(folder.getAttribute("aria-expanded")).toBe("false");
    fireEvent.click(folder);
    expect(screen.getByRole("link", { name: "evaluation.json" }).getAttribute("href")).toBe(
      "/runs/r1?artifact=outputs%2Fevaluation%2Fevaluation.json",
    );
  });

  it("lists the first 500 files of a folder until asked for all", () => {
    const many = Array.from({ length: 600 }, (_, index) => ({ path: `trials/${String(index).padStart(3, "0")}.json`, size: 1 }));
    render(
      <MemoryRouter initialEntries={["/runs/r1"]}>
        <ArtifactsPanel runId="r1" entries={many} />
      </MemoryRouter>,
    );
    expect(document.querySelectorAll("#artifact-list a")).toHaveLength(500);
    fireEvent.click(screen.getByRole("button", { name: "Show all 600 files" }));
    expect(document.querySelectorAll("#artifact-list a")).toHaveLength(600);
  });
});
