import { describe, expect, it } from "vitest";
import {
  addNode,
  connect,
  connectionProblem,
  disconnect,
  graphOf,
  newPipelineText,
  nodeId,
  removeNode,
  renameNode,
  setField,
} from "./pipelineDoc";
import { PALETTE } from "./testPalette";

// As the CLI's users write them: comments, a command step with its own ports, a component.
const CLI_PIPELINE = `# Retrains the flowers model every night.
type: pipeline
display_name: nightly
experiment_name: flowers
inputs:
  images:
    type: uri_folder
    path: data:flowers@latest # the newest version
outputs:
  scores_out:
    type: uri_folder
settings:
  default_compute: local
jobs:
  prep:
    component: azureml:prep:2
    inputs:
      raw: \${{parent.inputs.images}}
  train:
    type: automl
    task: classification
    inputs:
      training_data: \${{parent.jobs.prep.outputs.clean}}
  score:
    type: batch_score
    inputs:
      model: \${{parent.jobs.train.outputs.best_model}}
      data: \${{parent.inputs.images}}
    outputs:
      scores:
        type: uri_folder
        path: \${{parent.outputs.scores_out}}
`;

describe("graphOf", () => {
  it("reads inputs, steps with their kinds' ports, outputs and every binding", () => {
    const graph = graphOf(CLI_PIPELINE, PALETTE);
    expect(graph.error).toBeNull();
    expect(graph.nodes.map((node) => node.id)).toEqual([
      "input:images",
      "step:prep",
      "step:train",
      "step:score",
      "output:scores_out",
    ]);
    const prep = graph.nodes.find((node) => node.id === "step:prep");
    expect(prep?.title).toBe("component prep:2");
    expect(prep?.inputs.map((port) => port.name)).toEqual(["raw", "ratio"]);
    expect(graph.nodes.find((node) => node.id === "input:images")?.title).toBe("data asset flowers@latest");
    expect(graph.edges.map((edge) => edge.id).sort()).toEqual(
      [
        "input:images.value->step:prep.raw",
        "step:prep.clean->step:train.training_data",
        "step:train.best_model->step:score.model",
        "input:images.value->step:score.data",
        "step:score.scores->output:scores_out.value",
      ].sort(),
    );
  });

  it("draws a component version the palette does not list from the ports the step declares", () => {
    // As a run's recorded pipeline pins it: prep:1, while the palette lists prep:2.
    const recorded = [
      "type: pipeline",
      "jobs:",
      "  prep:",
      "    type: command",
      "    component: azureml:prep:1",
      "    command: [python, prep.py]",
      "    inputs: {raw: {type: uri_folder, path: 'data:flowers:3'}}",
      "    outputs: {clean: {type: uri_folder}}",
      "  train:",
      "    type: automl",
      "    inputs: {training_data: '${{parent.jobs.prep.outputs.clean}}'}",
    ].join("\n");
    const graph = graphOf(recorded, PALETTE);
    const prep = graph.nodes.find((node) => node.id === "step:prep");
    expect(prep?.title).toBe("component prep:1");
    expect(prep?.inputs.map((port) => [port.name, port.types])).toEqual([["raw", ["uri_folder"]]]);
    expect(prep?.outputs.map((port) => port.name)).toEqual(["clean"]);
    expect(graph.edges.map((edge) => edge.id)).toEqual(["step:prep.clean->step:train.training_data"]);
  });

  it("says where YAML that does not parse goes wrong", () => {
    expect(graphOf("jobs:\n  a: [1,\n", PALETTE).error).toMatch(/does not parse at line/);
    expect(graphOf("- 1\n- 2\n", PALETTE).error).toMatch(/not a mapping/);
  });
});

describe("connecting", () => {
  const graph = graphOf(CLI_PIPELINE, PALETTE);

  it("refuses a data folder where a model goes, naming both types", () => {
    const problem = connectionProblem(graph, PALETTE, {
      source: nodeId("input", "images"),
      sourcePort: "value",
      target: nodeId("step", "score"),
      targetPort: "model",
    });
    expect(problem).toBe(
      "score.model takes custom_model or string; input 'images' gives uri_folder: connect an output of a matching type",
    );
  });

  it("takes a model where a folder goes (a model is a folder)", () => {
    expect(
      connectionProblem(graph, PALETTE, {
        source: nodeId("step", "train"),
        sourcePort: "best_model",
        target: nodeId("step", "score"),
        targetPort: "data",
      }),
    ).toBeNull();
  });

  it("refuses a connection that closes a cycle, naming its steps", () => {
    const problem = connectionProblem(graph, PALETTE, {
      source: nodeId("step", "score"),
      sourcePort: "scores",
      target: nodeId("step", "prep"),
      targetPort: "raw",
    });
    expect(problem).toBe(
      "steps prep → train → score → prep would form a cycle: a step cannot read, directly or through others, its own output",
    );
  });

  it("rebinds an input, keeping the rest of the file as it was", () => {
    const text = connect(CLI_PIPELINE, {
      source: nodeId("step", "prep"),
      sourcePort: "clean",
      target: nodeId("step", "score"),
      targetPort: "data",
    });
    expect(text).toBe(
      CLI_PIPELINE.replace("data: ${{parent.inputs.images}}", "data: ${{parent.jobs.prep.outputs.clean}}"),
    );
  });

  it("unbinds an edge and drops a mapping it leaves empty", () => {
    const graph2 = graphOf(CLI_PIPELINE, PALETTE);
    const edge = graph2.edges.find((e) => e.id === "input:images.value->step:prep.raw");
    if (edge === undefined) throw new Error("no edge");
    const text = disconnect(CLI_PIPELINE, edge);
    expect(text).toContain("  prep:\n    component: azureml:prep:2\n  train:");
    expect(graphOf(text, PALETTE).edges).toHaveLength(4);
  });
});

describe("editing", () => {
  it("adds a step to an empty draft, starting a pipeline", () => {
    const text = addNode("", "train", { kind: "step", stepType: "automl", fields: { task: "classification" } });
    expect(text).toBe(
      "type: pipeline\ndisplay_name: train\nexperiment_name: train\nsettings:\n  default_compute: local\njobs:\n  train:\n    type: automl\n    task: classification\n",
    );
  });

  it("names a new draft's pipeline after it, quoted where YAML would read another type", () => {
    expect(newPipelineText("nightly-retrain")).toBe(
      "type: pipeline\ndisplay_name: nightly-retrain\nexperiment_name: nightly-retrain\nsettings:\n  default_compute: local\n",
    );
    expect(graphOf(newPipelineText("2026"), PALETTE).error).toBeNull();
    expect(newPipelineText("2026")).toContain('display_name: "2026"');
  });

  it("removes a step with the bindings that read it", () => {
    const graph = graphOf(CLI_PIPELINE, PALETTE);
    const text = removeNode(CLI_PIPELINE, graph, nodeId("step", "train"));
    expect(text).not.toContain("train:");
    expect(text).not.toContain("best_model");
    expect(graphOf(text, PALETTE).edges.map((e) => e.id).sort()).toEqual(
      [
        "input:images.value->step:prep.raw",
        "input:images.value->step:score.data",
        "step:score.scores->output:scores_out.value",
      ].sort(),
    );
  });

  it("renames a step where it is defined and where it is read", () => {
    const graph = graphOf(CLI_PIPELINE, PALETTE);
    const text = renameNode(CLI_PIPELINE, graph, nodeId("step", "prep"), "clean_up");
    expect(text).toBe(
      CLI_PIPELINE.replace("  prep:\n", "  clean_up:\n").replace("jobs.prep.outputs", "jobs.clean_up.outputs"),
    );
    expect(() => renameNode(CLI_PIPELINE, graph, nodeId("step", "prep"), "train")).toThrow(/already a step named 'train'/);
    expect(() => renameNode(CLI_PIPELINE, graph, nodeId("step", "prep"), "2x")).toThrow(/not a valid name/);
  });

  it("sets and removes a field in the file's own indentation", () => {
    const four = "type: pipeline\njobs:\n    a:\n        type: automl\n";
    expect(setField(four, ["jobs", "a", "compute"], "cpu-cluster")).toBe(
      "type: pipeline\njobs:\n    a:\n        type: automl\n        compute: cpu-cluster\n",
    );
    expect(setField(CLI_PIPELINE, ["jobs", "train", "task"], undefined)).not.toContain("task:");
  });
});
