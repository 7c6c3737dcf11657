import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonAnswer } from "../../test/fakeFetch";
import type { Deployment, Endpoint } from "../api/types";
import EndpointPage from "../pages/EndpointPage";
import { EndpointsPage } from "../pages/EndpointsPage";
import {
  asModelOutput,
  deployedModel,
  deploymentHealth,
  deploymentsServing,
  replicasSummary,
  scoreRows,
  trafficShares,
} from "./shaping";

// Before the API client is imported: it keeps the fetch it finds.
const server = await vi.hoisted(async () => (await import("../../test/fakeFetch")).installFakeFetch());

afterEach(() => {
  server.answers.clear();
  server.asked.length = 0;
});

function deployment(name: string, fields: Partial<Deployment> = {}): Deployment {
  return {
    endpoint: "flowers",
    name,
    model: "flowers@champion",
    resolved_model: "flowers:2",
    entry_script: null,
    source_directory: null,
    environment: null,
    compute: "local",
    replicas: 1,
    min_replicas: null,
    max_replicas: null,
    target_ongoing_requests: null,
    cpu_cores: 1,
    memory_gb: 1,
    state: "Succeeded",
    error: null,
    replica_handles: [{ index: 0, port: 41000, handle: "pid:1@host/2", url: null }],
    created_at: "2026-12-01T10:00:00+00:00",
    updated_at: "2026-12-01T10:05:00+00:00",
    ...fields,
  };
}

const FLOWERS: Endpoint = {
  name: "flowers",
  auth_mode: "key",
  scoring_uri: "http://127.0.0.1:41234/score",
  swagger_uri: "http://127.0.0.1:41234/swagger.json",
  port: 41234,
  traffic: { blue: 100 },
  mirror_traffic: { green: 10 },
  description: null,
  created_at: "2026-12-01T10:00:00+00:00",
  deployments: [
    deployment("blue"),
    deployment("green", {
      model: "flowers:3",
      resolved_model: "flowers:3",
      state: "Failed",
      error: "deployment green failed its preflight: init() raised\nTraceback (most recent call last):",
      replica_handles: [],
    }),
  ],
  health: { front_running: true, replicas_running: { blue: 1, green: 0 } },
};

const KEYS = { primaryKey: "primary-secret-key", secondaryKey: "secondary-secret-key" };

function endpointPage(tab = "") {
  return render(
    <MemoryRouter initialEntries={[`/endpoints/flowers${tab}`]}>
      <Routes>
        <Route path="/endpoints/:name" element={<EndpointPage />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("shaping", () => {
  it("reads a deployment's version and the alias it follows", () => {
    expect(deployedModel(deployment("blue"))).toEqual({ name: "flowers", version: 2, alias: "champion" });
    expect(deployedModel(deployment("b", { model: "models:/my.model@prod", resolved_model: "my.model:12" }))).toEqual({
      name: "my.model",
      version: 12,
      alias: "prod",
    });
    expect(deployedModel(deployment("c", { model: "flowers" })).alias).toBeNull();
  });

  it("shows every deployment's share, the mirror's last", () => {
    expect(trafficShares(FLOWERS)).toEqual([
      { deployment: "blue", percent: 100, mirror: false },
      { deployment: "green", percent: 10, mirror: true },
    ]);
  });

  it("orders a ModelOutput's scores from the most likely, and tells one from other JSON", () => {
    const output = { Prediction: "rose", Score: { daisy: 0.25, rose: 0.625, tulip: 0.125 } };
    expect(asModelOutput(output)).toBe(output);
    expect(asModelOutput({ y: 6 })).toBeNull();
    expect(asModelOutput({ Prediction: "rose", Score: { daisy: "high" } })).toBeNull();
    expect(scoreRows(output).map((row) => [row.label, row.percent])).toEqual([
      ["rose", "62.5%"],
      ["daisy", "25.0%"],
      ["tulip", "12.5%"],
    ]);
  });

  it("says what runs against what should, and where a version serves", () => {
    expect(deploymentHealth(FLOWERS, deployment("blue"))).toEqual({ label: "1/1 replicas running", tone: "good" });
    const down = { ...FLOWERS, health: { front_running: true, replicas_running: { blue: 0 } } };
    expect(deploymentHealth(down, deployment("blue")).tone).toBe("bad");
    // Autoscaled on ray: its bounds, not a fixed count ("2/1 running" read as too many).
    const scaled = deployment("blue", { compute: "raypool", min_replicas: null, max_replicas: 3 });
    const two = { ...FLOWERS, deployments: [scaled], health: { front_running: true, replicas_running: { blue: 2 } } };
    expect(deploymentHealth(two, scaled)).toEqual({ label: "2 replicas running (autoscaling 1–3)", tone: "good" });
    expect(replicasSummary(two).label).toBe("2 replicas running (autoscaling 1–3)");
    expect(deploymentsServing([FLOWERS], "flowers:2")).toEqual([
      { endpoint: "flowers", deployment: "blue" },
    ]);
    expect(deploymentsServing([FLOWERS], "flowers:3")).toEqual([]); // Failed: serves nothing
  });
});

describe("EndpointsPage", () => {
  it("lists each endpoint with its URI, traffic, deployments' states and front", async () => {
    server.answers.set("/api/v1/endpoints", jsonAnswer([FLOWERS]));
    render(
      <MemoryRouter>
        <EndpointsPage />
      </MemoryRouter>,
    );
    const row = (await screen.findByRole("link", { name: "flowers" })).closest("tr") as HTMLElement;
    expect(within(row).getByRole("link", { name: "flowers" }).getAttribute("href")).toBe("/endpoints/flowers");
    expect(row.textContent).toContain(FLOWERS.scoring_uri);
    expect(row.querySelector("[data-field=traffic]")?.textContent).toBe("blue 100%");
    expect(row.querySelector("[data-deployment=green] [data-field=state]")?.textContent).toBe("Failed");
    const health = row.querySelectorAll("[data-field=health]");
    expect([...health].map((badge) => badge.textContent)).toEqual(["Front running", "1/1 replicas running"]);
  });
});

describe("EndpointPage", () => {
  it("shows the deployments with their model versions, the traffic and a failure's first line", async () => {
    server.answers.set("/api/v1/endpoints/flowers", jsonAnswer(FLOWERS));
    endpointPage();
    const table = await screen.findByRole("table");
    const blue = table.querySelector("tr[data-deployment=blue]") as HTMLElement;
    expect(within(blue).getByRole("link", { name: "flowers:2" }).getAttribute("href")).toBe("/models/flowers/versions/2");
    expect(blue.textContent).toContain("follows champion");
    expect(blue.querySelector("[data-field=health]")?.textContent).toBe("1/1 replicas running");
    const green = table.querySelector("tr[data-deployment=green]") as HTMLElement;
    expect(green.querySelector(".error-text")?.textContent).toBe(
      "deployment green failed its preflight: init() raised",
    );
    const traffic = document.getElementById("traffic") as HTMLElement;
    expect(traffic.querySelector("[data-deployment=blue] [data-field=percent]")?.textContent).toBe("100%");
    expect(traffic.querySelector("[data-deployment=green]")?.textContent).toContain("(mirror)");
  });

  it("keeps the keys out of the page until asked, and regenerates one only once confirmed", async () => {
    server.answers.set("/api/v1/endpoints/flowers", jsonAnswer(FLOWERS));
    server.answers.set("/api/v1/endpoints/flowers/list-keys", jsonAnswer(KEYS));
    const regenerated = { ...KEYS, secondaryKey: "new-secondary-key" };
    server.answers.set("/api/v1/endpoints/flowers/regen-key", jsonAnswer(regenerated));
    endpointPage("?tab=keys");
    const show = await screen.findByRole("button", { name: "Show keys" });
    expect(document.body.textContent).not.toContain(KEYS.primaryKey);
    expect(server.asked).not.toContain("/api/v1/endpoints/flowers/list-keys");

    fireEvent.click(show);
    expect(await screen.findByText(KEYS.primaryKey)).toBeTruthy();
    const secondary = document.querySelector("[data-key=secondary]") as HTMLElement;
    fireEvent.click(within(secondary).getByRole("button", { name: "Regenerate" }));
    expect(server.asked).not.toContain("/api/v1/endpoints/flowers/regen-key");
    fireEvent.click(screen.getByRole("button", { name: "Regenerate the secondary key" }));
    expect(await screen.findByText("new-secondary-key")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("The secondary key was regenerated.");
  });

  it("tells a reader in one line that keys are not theirs to see", async () => {
    server.answers.set("/api/v1/endpoints/flowers", jsonAnswer(FLOWERS));
    server.answers.set("/api/v1/endpoints/flowers/list-keys", () =>
      Response.json(
        { code: "PERMISSION_DENIED", message: "user 'rita' is a reader: this needs the contributor role" },
        { status: 403 },
      ),
    );
    endpointPage("?tab=keys");
    fireEvent.click(await screen.findByRole("button", { name: "Show keys" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "user 'rita' is a reader: this needs the contributor role",
    );
  });

  it("sends JSON to a script's endpoint and shows the answer, or a refusal in one line", async () => {
    const scripts = {
      ...FLOWERS,
      mirror_traffic: {},
      deployments: [deployment("blue", { entry_script: "score.py" })],
    };
    server.answers.set("/api/v1/endpoints/flowers", jsonAnswer(scripts));
    server.answers.set("/api/v1/endpoints/flowers/invoke", () =>
      Response.json({ y: 42 }, { headers: { "x-request-id": "r1", "x-modelyard-deployment": "blue" } }),
    );
    endpointPage();
    const body = await screen.findByLabelText(/Request body/);
    fireEvent.change(body, { target: { value: '{"x": 21}' } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect((await screen.findByLabelText("The answer")).textContent).toBe('{\n  "y": 42\n}');
    expect(document.getElementById("test-result")?.textContent).toContain("Answered by deployment blue · request id r1");

    server.answers.set("/api/v1/endpoints/flowers/invoke", () =>
      Response.json(
        { code: "MODELYARD_ERROR", message: "scoring failed (KeyError: 'x')", context: {}, request_id: "r2" },
        { status: 500, headers: { "x-request-id": "r2" } },
      ),
    );
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    expect((await screen.findByRole("alert")).textContent).toBe("scoring failed (KeyError: 'x') (request id r2)");
  });
});
