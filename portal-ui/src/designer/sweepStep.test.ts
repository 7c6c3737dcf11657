// A sweep in the designer: offered in the palette (its trial a registered component, as a browser
// sends no folder), drawn with its component's inputs less the searched ones, and its fields
// edited in place, a binding its ports no longer have going with them.
import { describe, expect, it } from "vitest";
import { paletteGroups } from "./PaletteList";
import { connectionProblem, graphOf, nodeId, setStepField } from "./pipelineDoc";
import { PALETTE } from "./testPalette";

const SWEEP_PIPELINE = `type: pipeline
experiment_name: tuned
inputs:
  table: {type: uri_folder, path: 'data:flowers@latest'}
jobs:
  tune:
    type: sweep
    trial: azureml:prep:2 # the component each trial runs
    inputs:
      raw: \${{parent.inputs.table}}
    search_space:
      ratio: {type: uniform, min_value: 0.1, max_value: 0.9}
    objective: {primary_metric: accuracy, goal: maximize}
  score:
    type: batch_score
    inputs:
      model: model:m@latest
      data: \${{parent.jobs.tune.outputs.best_trial}}
`;

describe("a sweep in the palette", () => {
  it("is offered among the built-in steps; a command is not (components are)", () => {
    const builtIns = paletteGroups(PALETTE).find((group) => group.title === "Built-in steps");
    expect(builtIns?.items.map((item) => item.key)).toEqual(["step:automl", "step:batch_score", "step:sweep"]);
    expect(builtIns?.items.find((item) => item.key === "step:sweep")?.label).toBe("sweep");
  });
});

describe("a sweep over a component", () => {
  it("has its component's inputs less the searched ones, and gives best_trial", () => {
    const graph = graphOf(SWEEP_PIPELINE, PALETTE);
    const tune = graph.nodes.find((node) => node.id === "step:tune");
    expect(tune?.title).toBe("sweep over component prep:2");
    expect(tune?.inputs).toEqual([{ name: "raw", types: ["uri_folder"], required: true }]);
    expect(tune?.outputs.map((port) => [port.name, port.types])).toEqual([["best_trial", ["uri_folder"]]]);
    expect(graph.edges.map((edge) => edge.id).sort()).toEqual(
      ["input:table.value->step:tune.raw", "step:tune.best_trial->step:score.data"].sort(),
    );
  });

  it("is drawn the same from a run's recorded pipeline (a folder trial beside its component)", () => {
    const recorded = [
      "type: pipeline",
      "jobs:",
      "  tune:",
      "    type: sweep",
      "    trial: {code: steps/tune, command: [python, prep.py, --ratio, '${{search_space.ratio}}']}",
      "    component: azureml:prep:2",
      "    inputs: {raw: {type: uri_folder, path: 'data:flowers:3'}}",
      "    search_space: {ratio: {type: choice, values: [0.2, 0.5]}}",
    ].join("\n");
    const tune = graphOf(recorded, PALETTE).nodes.find((node) => node.id === "step:tune");
    expect(tune?.title).toBe("sweep over component prep:2");
    expect(tune?.inputs.map((port) => port.name)).toEqual(["raw"]);
  });

  it("connects its inputs typed as the component declares them", () => {
    const graph = graphOf(SWEEP_PIPELINE, PALETTE);
    expect(
      connectionProblem(graph, PALETTE, {
        source: nodeId("step", "tune"),
        sourcePort: "best_trial",
        target: nodeId("step", "score"),
        targetPort: "model",
      }),
    ).toBe("score.model takes custom_model or string; tune.best_trial gives uri_folder: connect an output of a matching type");
  });

  it("searching an input drops its binding, and only that part of the file changes", () => {
    const text = setStepField(SWEEP_PIPELINE, PALETTE, "tune", "search_space", {
      ratio: { type: "uniform", min_value: 0.1, max_value: 0.9 },
      raw: { type: "choice", values: ["a"] },
    });
    expect(text).toBe(
      SWEEP_PIPELINE.replace("    inputs:\n      raw: ${{parent.inputs.table}}\n", "").replace(
        "      ratio: {type: uniform, min_value: 0.1, max_value: 0.9}\n",
        "      ratio:\n        type: uniform\n        min_value: 0.1\n        max_value: 0.9\n      raw:\n        type: choice\n        values:\n          - a\n",
      ),
    );
    expect(graphOf(text, PALETTE).nodes.find((node) => node.id === "step:tune")?.inputs).toEqual([]);
  });

  it("choosing its trial component gives its ports; another field leaves its bindings", () => {
    const empty = "type: pipeline\njobs:\n  tune:\n    type: sweep\n";
    const chosen = setStepField(empty, PALETTE, "tune", "trial", "azureml:prep:2");
    expect(chosen).toBe("type: pipeline\njobs:\n  tune:\n    type: sweep\n    trial: azureml:prep:2\n");
    const tune = graphOf(chosen, PALETTE).nodes.find((node) => node.id === "step:tune");
    expect(tune?.inputs.map((port) => [port.name, port.required])).toEqual([
      ["raw", true],
      ["ratio", false],
    ]);
    const limited = setStepField(SWEEP_PIPELINE, PALETTE, "tune", "limits", { max_total_trials: 2 });
    expect(limited).toBe(SWEEP_PIPELINE.replace("  score:\n", "    limits:\n      max_total_trials: 2\n  score:\n"));
  });
});
