import { describe, expect, it } from "vitest";
import type { DataLineage, DataVersion } from "../api/types";
import { dataPath, lineageTree, shortHash } from "./shaping";

function version(name: string, number: number, fields: Partial<DataVersion> = {}): DataVersion {
  return {
    name,
    version: number,
    reference: `data:${name}:${String(number)}`,
    type: "uri_folder",
    content_hash: "ab".repeat(32),
    file_count: 1,
    total_bytes: 10,
    created_at: "2026-12-01T10:00:00+00:00",
    created_by: "ana",
    description: null,
    tags: {},
    parent_version: null,
    archived: false,
    ...fields,
  };
}

describe("dataPath", () => {
  it("names an asset or one version, escaping the name", () => {
    expect(dataPath("flowers")).toBe("/data/flowers");
    expect(dataPath("flowers", 3)).toBe("/data/flowers/3");
    expect(dataPath("a b")).toBe("/data/a%20b");
  });
});

describe("shortHash", () => {
  it("keeps the first 12 characters", () => {
    expect(shortHash("0123456789abcdef")).toBe("0123456789ab");
  });
});

describe("lineageTree", () => {
  it("hangs each model version under its run and each deployment under its model version", () => {
    const lineage: DataLineage = {
      version: version("flowers", 1),
      runs: [
        { run_id: "r1", experiment: "e", status: "completed", input_name: "train" },
        { run_id: "r2", experiment: "e", status: "failed", input_name: "train" },
      ],
      models: [
        { name: "clf", version: 1, run_id: "r1" },
        { name: "clf", version: 2, run_id: "r1" },
      ],
      deployments: [
        { endpoint: "ep", deployment: "blue", model: "clf:2", state: "ready" },
        { endpoint: "ep2", deployment: "green", model: "clf:2", state: "failed" },
      ],
    };
    const tree = lineageTree(lineage);
    expect(tree.map((branch) => branch.run.run_id)).toEqual(["r1", "r2"]);
    expect(tree[0]?.models.map((branch) => branch.model.version)).toEqual([1, 2]);
    expect(tree[0]?.models[0]?.deployments).toEqual([]);
    expect(tree[0]?.models[1]?.deployments.map((d) => d.endpoint)).toEqual(["ep", "ep2"]);
    expect(tree[1]?.models).toEqual([]);
  });
});
