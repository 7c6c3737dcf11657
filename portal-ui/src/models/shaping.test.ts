import { describe, expect, it } from "vitest";
import type { RegisteredModel } from "../api/types";
import { aliasBadges, aliasesByVersion, filterModels, modelPath, schemaView, usageSnippets } from "./shaping";

function model(name: string, fields: Partial<RegisteredModel> = {}): RegisteredModel {
  return {
    name,
    created_at: "2026-12-01T10:00:00+00:00",
    updated_at: "2026-12-01T10:00:00+00:00",
    latest_version: 1,
    version_count: 1,
    aliases: {},
    framework: null,
    ...fields,
  };
}

// As services/model_recognition.py records an image classifier's.
const IMAGE_INPUT = {
  name: "ModelInput",
  fields: [
    { name: "ImageSource", type: "image", description: "an image file or its bytes" },
    { name: "Label", type: "string", description: "the true label; unused to predict" },
  ],
  preprocessing: { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406] },
};
const IMAGE_OUTPUT = {
  name: "ModelOutput",
  fields: [
    { name: "Prediction", type: "string", description: "the most probable label" },
    { name: "Score", type: "map<string, float32>", description: "label → probability" },
  ],
  labels: ["daisy", "rose", "tulip"],
};

describe("aliases", () => {
  it("are badges by name, each naming its version", () => {
    expect(aliasBadges({ staging: 3, champion: 2 })).toEqual([
      { alias: "champion", version: 2, label: "champion → v2" },
      { alias: "staging", version: 3, label: "staging → v3" },
    ]);
    expect(aliasBadges({})).toEqual([]);
  });

  it("are grouped by the version they point at", () => {
    const byVersion = aliasesByVersion({ staging: 3, champion: 2, prod: 2 });
    expect(byVersion.get(2)).toEqual(["champion", "prod"]);
    expect(byVersion.get(3)).toEqual(["staging"]);
    expect(byVersion.get(1)).toBeUndefined();
  });
});

describe("filterModels", () => {
  const models = [
    model("flowers", { framework: "onnx-image-classification", aliases: { champion: 1 } }),
    model("churn", { framework: "sklearn" }),
    model("Birds", { aliases: { staging: 1 } }),
  ];
  const names = (text: string) => filterModels(models, text).map((found) => found.name);

  it("matches the name, the framework or an alias, in any case", () => {
    expect(names("")).toEqual(["flowers", "churn", "Birds"]);
    expect(names("  BIR ")).toEqual(["Birds"]);
    expect(names("onnx")).toEqual(["flowers"]);
    expect(names("staging")).toEqual(["Birds"]);
    expect(names("nothing")).toEqual([]);
  });
});

describe("schemaView", () => {
  it("reads an image classifier's input: its fields and preprocessing", () => {
    const view = schemaView(IMAGE_INPUT);
    expect(view?.name).toBe("ModelInput");
    expect(view?.fields.map((field) => [field.name, field.type])).toEqual([
      ["ImageSource", "image"],
      ["Label", "string"],
    ]);
    expect(view?.labels).toEqual([]);
    expect(view?.details).toEqual([
      ["resize", "256"],
      ["crop", "224"],
      ["mean", "[0.485,0.456,0.406]"],
    ]);
    expect(view?.other).toBeNull();
  });

  it("reads an image classifier's output with its labels", () => {
    const view = schemaView(IMAGE_OUTPUT);
    expect(view?.name).toBe("ModelOutput");
    expect(view?.fields.map((field) => field.name)).toEqual(["Prediction", "Score"]);
    expect(view?.labels).toEqual(["daisy", "rose", "tulip"]);
  });

  it("shows a schema of another shape as its JSON, and none as null", () => {
    expect(schemaView({ type: "tensor", shape: [1, 3] })?.other).toBe('{\n  "type": "tensor",\n  "shape": [\n    1,\n    3\n  ]\n}');
    expect(schemaView({ fields: [{ type: "no name" }] })?.other).not.toBeNull();
    expect(schemaView(["a"])?.other).toBe('[\n  "a"\n]');
    expect(schemaView(null)).toBeNull();
    expect(schemaView(undefined)).toBeNull();
  });
});

describe("usageSnippets and paths", () => {
  it("name the version for the CLI and the SDK", () => {
    const { cli, sdk } = usageSnippets({ name: "flowers", version: 2 });
    expect(cli).toBe("modelyard model download flowers:2 --to flowers-2");
    expect(sdk).toContain('model = Model(ws, "flowers", version=2)');
  });

  it("escape a model's name in its page's path", () => {
    expect(modelPath("a b")).toBe("/models/a%20b");
    expect(modelPath("flowers", 3)).toBe("/models/flowers/versions/3");
  });
});
