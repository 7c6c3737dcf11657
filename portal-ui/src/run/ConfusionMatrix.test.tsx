import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonAnswer } from "../../test/fakeFetch";
import { sortedClasses } from "./ClassMetricsTable";
import { shade } from "./ConfusionMatrix";
import { EvaluationPanel } from "./EvaluationPanel";
import { evaluationFolder, parseConfusion, parseMisclassified } from "./evaluation";

// Before the API client is imported: it keeps the fetch it finds.
const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());

const FOLDER = "outputs/evaluation";
const API = `/api/v1/runs/r1/artifacts/${FOLDER}`;
const LABELS = ["cat", "dog", "fox"];
// As vision/evaluation.py writes them: cat 3 images (one taken for a dog), dog 2, fox 3 (one
// taken for a cat, one for a dog).
const CONFUSION = { labels: LABELS, matrix: [[2, 1, 0], [0, 2, 0], [1, 1, 1]] };
const MISCLASSIFIED = [
  { index: 6, source: "/data/fox/6.png", label: "fox", predicted: "cat", score: 0.9, thumbnail: "misclassified/6.jpg" },
  { index: 7, source: "/data/fox/7.png", label: "fox", predicted: "dog", score: 0.5, thumbnail: "misclassified/7.jpg" },
  { index: 1, source: "/data/cat/1.png", label: "cat", predicted: "dog", score: 0.6, thumbnail: null },
];
const EVALUATION = {
  summary: "accuracy 62.5% on 8 images in 3 classes",
  accuracy: 0.625,
  per_class: [
    { label: "cat", precision: 0.667, recall: 0.667, f1: 0.667, support: 3, predicted: 3 },
    { label: "dog", precision: 0.5, recall: 1, f1: 0.667, support: 2, predicted: 4 },
    { label: "fox", precision: 1, recall: 0.333, f1: 0.5, support: 3, predicted: 1 },
  ],
  notes: [],
};
const ENTRIES = ["confusion_matrix.json", "evaluation.json", "misclassified.json"].map((name) => ({
  path: `${FOLDER}/${name}`,
  size: 100,
}));

function serve() {
  server.answers.set(`${API}/confusion_matrix.json`, jsonAnswer(CONFUSION));
  server.answers.set(`${API}/misclassified.json`, jsonAnswer(MISCLASSIFIED));
  server.answers.set(`${API}/evaluation.json`, jsonAnswer(EVALUATION));
}

async function renderPanel() {
  render(<EvaluationPanel runId="r1" folder={FOLDER} entries={ENTRIES} />);
  await screen.findByRole("table", { name: /^Confusion matrix/ });
  await screen.findByText(/Choose a cell/);
}

function cell(row: number, column: number): HTMLButtonElement {
  const found = document.querySelector<HTMLButtonElement>(`button[data-row="${row}"][data-column="${column}"]`);
  if (!found) throw new Error(`no cell ${row},${column}`);
  return found;
}

afterEach(() => {
  server.answers.clear();
});

describe("EvaluationPanel's confusion matrix", () => {
  it("shows each count shaded by its share of the row, described for screen readers", async () => {
    serve();
    await renderPanel();
    expect(cell(1, 1).textContent).toBe("2");
    expect(cell(1, 1).style.backgroundColor).toBe(shade(1)); // all of dog's images
    expect(cell(0, 2).style.backgroundColor).toBe(shade(0));
    expect(cell(2, 0).getAttribute("aria-label")).toBe("fox predicted as cat: 1 image (33.3% of fox)");
    expect(screen.getByText("accuracy 62.5% on 8 images in 3 classes")).toBeTruthy();
  });

  it("lists a cell's misclassified images when the cell is clicked", async () => {
    serve();
    await renderPanel();
    fireEvent.click(cell(2, 1)); // fox taken for a dog
    const list = screen.getByRole("region", { name: "fox predicted as dog: 1 image" });
    const images = within(list).getAllByRole("img");
    expect(images.map((image) => image.getAttribute("src"))).toEqual([`${API}/misclassified/7.jpg`]);
    expect(cell(2, 1).getAttribute("aria-pressed")).toBe("true");

    fireEvent.click(cell(0, 1)); // cat taken for a dog: its image was not saved
    const other = screen.getByRole("region", { name: "cat predicted as dog: 1 image" });
    expect(within(other).queryByRole("img")).toBeNull();
    expect(within(other).getByText("no image saved")).toBeTruthy();
    expect(within(other).getByText("1.png")).toBeTruthy();

    fireEvent.click(cell(1, 1));
    expect(screen.getByText(/correct predictions; only mistakes are listed/)).toBeTruthy();
  });

  it("moves between cells with the arrow keys, one cell in the tab order, Enter choosing", async () => {
    serve();
    await renderPanel();
    const tabbable = () => [...document.querySelectorAll("#confusion-matrix button")].filter((b) => b.getAttribute("tabindex") === "0");
    expect(tabbable()).toEqual([cell(0, 0)]);
    act(() => {
      cell(0, 0).focus();
    });
    expect(screen.getByRole("tooltip").textContent).toBe("cat predicted correctly: 2 images (66.7% of cat)");
    fireEvent.keyDown(cell(0, 0), { key: "ArrowDown" });
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowDown" });
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowDown" }); // stays at the edge
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowRight" });
    expect(document.activeElement).toBe(cell(2, 1));
    expect(tabbable()).toEqual([cell(2, 1)]);
    expect(screen.getByRole("tooltip").textContent).toBe("fox predicted as dog: 1 image (33.3% of fox)");
    fireEvent.keyDown(cell(2, 1), { key: "End" });
    expect(document.activeElement).toBe(cell(2, 2));
    fireEvent.keyDown(cell(2, 2), { key: "Home", ctrlKey: true });
    expect(document.activeElement).toBe(cell(0, 0));
    // A button: Enter and Space click it (the browser's doing, as in the browser test).
    fireEvent.keyDown(cell(0, 0), { key: "ArrowRight" });
    fireEvent.click(document.activeElement as Element);
    expect(screen.getByRole("region", { name: "cat predicted as dog: 1 image" })).toBeTruthy();
  });

  it("sorts the per-class metrics by any column", async () => {
    serve();
    await renderPanel();
    const table = screen.getByRole("table", { name: "Per-class metrics on the validation set" });
    const order = () => [...table.querySelectorAll("tbody tr")].map((row) => row.getAttribute("data-class"));
    expect(order()).toEqual(["cat", "dog", "fox"]);
    fireEvent.click(within(table).getByRole("button", { name: "Recall" }));
    expect(order()).toEqual(["dog", "cat", "fox"]); // highest first
    expect(table.querySelector("th[data-column=recall]")?.getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(within(table).getByRole("button", { name: /Recall/ }));
    expect(order()).toEqual(["fox", "cat", "dog"]);
  });

  it("says in a line which artifact is bad and shows the others", async () => {
    serve();
    server.answers.set(`${API}/confusion_matrix.json`, jsonAnswer({ labels: ["a", "b"], matrix: [[1]] }));
    render(<EvaluationPanel runId="r1" folder={FOLDER} entries={ENTRIES} />);
    expect((await screen.findByText(/confusion_matrix.json could not be shown/)).textContent).toBe(
      'confusion_matrix.json could not be shown: its "matrix" is not 2 rows of 2 counts.',
    );
    expect(await screen.findByRole("table", { name: "Per-class metrics on the validation set" })).toBeTruthy();
  });
});

describe("the evaluation's artifacts", () => {
  it("are found where the trainer writes them, else in the first folder holding them", () => {
    expect(evaluationFolder(ENTRIES)).toBe(FOLDER);
    expect(evaluationFolder([{ path: "b/confusion_matrix.json", size: 1 }, { path: "a/confusion_matrix.json", size: 1 }])).toBe("a");
    expect(evaluationFolder([{ path: "outputs/model.onnx", size: 1 }])).toBeNull();
  });

  it("refuse a thumbnail path that leaves the evaluation's folder", () => {
    const parsed = parseMisclassified([
      { label: "a", predicted: "b", thumbnail: "../../secret.png" },
      { label: "a", predicted: "b", thumbnail: "/etc/x.png" },
      { label: "a", predicted: "b", thumbnail: "misclassified/1.jpg" },
    ]);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.value.map((item) => item.thumbnail)).toEqual([null, null, "misclassified/1.jpg"]);
  });

  it("refuse a matrix of negative or fractional counts", () => {
    expect(parseConfusion({ labels: ["a"], matrix: [[-1]] }).ok).toBe(false);
    expect(parseConfusion({ labels: ["a"], matrix: [[0.5]] }).ok).toBe(false);
    expect(sortedClasses([], { column: "f1", descending: true })).toEqual([]);
  });
});
