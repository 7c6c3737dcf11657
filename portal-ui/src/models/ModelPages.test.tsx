import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonAnswer } from "../../test/fakeFetch";
import { ModelPage } from "../pages/ModelPage";
import { ModelsPage } from "../pages/ModelsPage";
import { RegisteredModels } from "../run/RegisteredModels";
import { SchemaPanel } from "./SchemaPanel";

// Before the API client is imported: it keeps the fetch it finds.
const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());

afterEach(() => {
  server.answers.clear();
  server.asked.length = 0;
});

const FLOWERS = {
  name: "flowers",
  created_at: "2026-12-01T10:00:00+00:00",
  updated_at: "2026-12-02T10:00:00+00:00",
  latest_version: 2,
  version_count: 2,
  aliases: { champion: 1, staging: 2 },
  framework: "onnx-image-classification",
};

function version(number: number, runId: string | null) {
  return {
    name: "flowers",
    version: number,
    reference: `flowers:${String(number)}`,
    files: [{ path: "model.bin", sha256: "a".repeat(64), size: 2048 }],
    size: 2048,
    created_at: "2026-12-01T10:00:00+00:00",
    created_by: "ana",
    description: null,
    tags: number === 1 ? { stage: "test" } : {},
    properties: {},
    framework: null,
    input_schema: null,
    output_schema: null,
    lineage: { run_id: runId, experiment: runId ? "flowers-exp" : null, data_hash: null },
    aliases: number === 1 ? ["champion"] : ["staging"],
  };
}

function modelPage() {
  return render(
    <MemoryRouter initialEntries={["/models/flowers"]}>
      <Routes>
        <Route path="/models/:name" element={<ModelPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("ModelsPage", () => {
  it("lists each model with its aliases as badges and filters them", async () => {
    server.answers.set("/api/v1/models", jsonAnswer([FLOWERS, { ...FLOWERS, name: "churn", aliases: {}, framework: null }]));
    render(
      <MemoryRouter>
        <ModelsPage />
      </MemoryRouter>,
    );
    const table = await screen.findByRole("table");
    const flowers = within(table).getByRole("link", { name: "flowers" }).closest("tr");
    expect(flowers?.textContent).toContain("champion → v1");
    expect(flowers?.textContent).toContain("staging → v2");
    expect(within(table).getByRole("link", { name: "v2 of flowers" }).getAttribute("href")).toBe(
      "/models/flowers/versions/2",
    );
    fireEvent.change(screen.getByLabelText("Filter"), { target: { value: "stag" } });
    expect(within(table).queryByRole("link", { name: "churn" })).toBeNull();
    expect(within(table).getByRole("link", { name: "flowers" })).toBeTruthy();
  });
});

describe("ModelPage", () => {
  it("shows each version's aliases and source run, and a refused alias change in one line", async () => {
    server.answers.set("/api/v1/models/flowers", jsonAnswer(FLOWERS));
    server.answers.set("/api/v1/models/flowers/versions", jsonAnswer([version(2, null), version(1, "abcdef0123456789")]));
    server.answers.set("/api/v1/models/flowers/aliases/champion", () =>
      Response.json(
        { code: "PERMISSION_DENIED", message: "rita is a reader: changing the registry needs contributor" },
        { status: 403 },
      ),
    );
    modelPage();
    const table = await screen.findByRole("table");
    const first = table.querySelector("tr[data-version='1']");
    expect(first?.querySelector("[data-alias=champion]")?.textContent).toBe("champion");
    expect(within(first as HTMLElement).getByRole("link", { name: /flowers-exp/ }).getAttribute("href")).toBe(
      "/runs/abcdef0123456789",
    );
    expect(table.querySelector("tr[data-version='2'] [data-alias=staging]")).not.toBeNull();

    fireEvent.change(screen.getByLabelText("Alias"), { target: { value: "champion" } });
    fireEvent.change(screen.getByLabelText("Version"), { target: { value: "2" } });
    fireEvent.click(screen.getByRole("button", { name: "Set alias" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "rita is a reader: changing the registry needs contributor",
    );
  });
});

describe("SchemaPanel", () => {
  it("shows an image classifier's fields and labels, and what was not recorded", () => {
    render(
      <SchemaPanel
        input={null}
        output={{
          name: "ModelOutput",
          fields: [{ name: "Prediction", type: "string", description: "the most probable label" }],
          labels: ["daisy", "rose"],
        }}
      />,
    );
    expect(screen.getByText("Not recorded.")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Output: ModelOutput" })).toBeTruthy();
    expect(within(screen.getByRole("list", { name: "Labels" })).getAllByRole("listitem").map((item) => item.textContent)).toEqual([
      "daisy",
      "rose",
    ]);
  });
});

describe("RegisteredModels", () => {
  it("links the versions registered from a run, and shows nothing when there are none", async () => {
    server.answers.set("/api/v1/model-versions?run_id=r1", jsonAnswer([version(1, "r1"), version(3, "r1")]));
    server.answers.set("/api/v1/model-versions?run_id=r2", jsonAnswer([]));
    const { container } = render(
      <MemoryRouter>
        <RegisteredModels runId="r1" />
        <RegisteredModels runId="r2" />
      </MemoryRouter>,
    );
    const line = await screen.findByText(/Registered models/);
    expect(within(line).getAllByRole("link").map((link) => [link.textContent, link.getAttribute("href")])).toEqual([
      ["flowers:1", "/models/flowers/versions/1"],
      ["flowers:3", "/models/flowers/versions/3"],
    ]);
    expect(container.querySelectorAll("p").length).toBe(1);
  });
});
