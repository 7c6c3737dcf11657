import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { RunStatus } from "../api/types";
import { ColumnChooser } from "./ColumnChooser";
import { StatusFilter } from "./StatusFilter";

describe("the column chooser", () => {
  const columns = [
    { id: "display_name", label: "Run", group: "run" as const },
    { id: "metric:accuracy", label: "accuracy", group: "metric" as const },
    { id: "param:lr", label: "lr", group: "param" as const },
    { id: "tag:team", label: "team", group: "tag" as const },
  ];

  it("groups the columns and answers the shown ones in the table's order", () => {
    const changes: string[][] = [];
    let resets = 0;
    const { container } = render(
      <ColumnChooser
        columns={columns}
        shown={["tag:team", "display_name"]}
        onChange={(shown) => changes.push(shown)}
        onReset={() => (resets += 1)}
      />,
    );
    const legends = [...container.querySelectorAll("fieldset legend")];
    expect(legends.map((legend) => legend.textContent)).toEqual([
      "Run",
      "Metrics",
      "Params",
      "Tags",
    ]);
    fireEvent.click(screen.getByRole("checkbox", { name: "lr" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Run" }));
    fireEvent.click(screen.getByRole("button", { name: "Default columns" }));
    expect(changes).toEqual([["display_name", "param:lr", "tag:team"], ["tag:team"]]);
    expect(resets).toBe(1);
  });
});

describe("the status filter", () => {
  it("takes any number of statuses, in the lifecycle's order", () => {
    const changes: RunStatus[][] = [];
    render(<StatusFilter chosen={["Failed"]} onChange={(statuses) => changes.push(statuses)} />);
    expect(screen.getByText("Status: Failed")).toBeTruthy();
    fireEvent.click(screen.getByRole("checkbox", { name: "Running" }));
    fireEvent.click(screen.getByRole("checkbox", { name: "Failed" }));
    expect(changes).toEqual([["Running", "Failed"], []]);
  });
});
