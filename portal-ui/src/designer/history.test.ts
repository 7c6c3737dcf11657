import { describe, expect, it } from "vitest";
import { canRedo, canUndo, current, record, redo, startHistory, undo } from "./history";
import { autoLayout, positions } from "./layout";
import { graphOf } from "./pipelineDoc";
import { PALETTE } from "./testPalette";

describe("history", () => {
  it("undoes and redoes edits, and a new edit drops what was undone", () => {
    let history = startHistory({ text: "a", layout: {} });
    history = record(history, { text: "b", layout: {} });
    history = record(history, { text: "c", layout: {} });
    history = undo(undo(history));
    expect(current(history).text).toBe("a");
    expect(canUndo(history)).toBe(false);
    history = redo(history);
    expect(current(history).text).toBe("b");
    history = record(history, { text: "d", layout: {} });
    expect(canRedo(history)).toBe(false);
    expect(current(undo(history)).text).toBe("b");
  });

  it("records nothing for a state that changes nothing", () => {
    const history = startHistory({ text: "a", layout: { n: { x: 1, y: 2 } } });
    expect(record(history, { text: "a", layout: { n: { x: 1, y: 2 } } })).toBe(history);
    expect(canUndo(record(history, { text: "a", layout: { n: { x: 1, y: 3 } } }))).toBe(true);
  });
});

describe("layout", () => {
  const text = [
    "type: pipeline",
    "inputs:",
    "  raw: {type: uri_folder, path: 'data:flowers@latest'}",
    "jobs:",
    "  prep:",
    "    component: prep:2",
    "    inputs: {raw: '${{parent.inputs.raw}}'}",
    "  train:",
    "    type: automl",
    "    inputs: {training_data: '${{parent.jobs.prep.outputs.clean}}'}",
  ].join("\n");
  const graph = graphOf(text, PALETTE);

  it("places nodes left to right in the order data flows", () => {
    const placed = autoLayout(graph);
    const x = (id: string) => placed[id]?.x ?? Number.NaN;
    expect(x("input:raw")).toBeLessThan(x("step:prep"));
    expect(x("step:prep")).toBeLessThan(x("step:train"));
  });

  it("keeps where the user put a node and places only the others", () => {
    const mine = { "step:prep": { x: 999, y: 7 } };
    const all = positions(graph, mine);
    expect(all["step:prep"]).toEqual({ x: 999, y: 7 });
    expect(Object.keys(all).sort()).toEqual(["input:raw", "step:prep", "step:train"]);
  });
});
