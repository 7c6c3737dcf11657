// The palette: what can go on the canvas — data assets, pipeline inputs and outputs, the
// built-in steps and the registered components. Drag an item onto the canvas, or press it (or
// Enter on it) to add it beside the others.
import type { DragEvent } from "react";
import type { Palette } from "../api/designer";
import { PALETTE_DRAG_TYPE } from "./Canvas";
import { componentFieldOf } from "./pipelineDoc";

export interface PaletteItem {
  key: string; // `step:automl`, `component:prep:2`, `data:flowers`, `input:uri_folder`, `output:uri_folder`
  label: string;
  description: string;
}

export function paletteGroups(palette: Palette): { title: string; items: PaletteItem[] }[] {
  const literalTypes = palette.port_types.filter((type) => !type.is_data).map((type) => type.type);
  return [
    {
      title: "Data",
      items: [
        ...palette.data_assets.map((asset) => ({
          key: `data:${asset.name}`,
          label: asset.name,
          description: `data asset ${asset.name} (latest version: ${String(asset.latest_version)})`,
        })),
        { key: "input:uri_folder", label: "Folder input", description: "a pipeline input: a folder given when it is run" },
        {
          key: `input:${literalTypes.includes("number") ? "number" : (literalTypes[0] ?? "string")}`,
          label: "Value input",
          description: "a pipeline input: a number or text given when it is run",
        },
        { key: "output:uri_folder", label: "Pipeline output", description: "a folder the pipeline gives (bind a step's output to it)" },
      ],
    },
    {
      title: "Built-in steps",
      items: palette.step_types
        // A step that runs a folder of code comes from a registered component, as a browser
        // cannot send the folder: a command is a component's (below); a sweep picks its trial's.
        .filter((spec) => !spec.runs_code || (spec.type !== "command" && componentFieldOf(spec) !== undefined))
        .map((spec) => ({ key: `step:${spec.type}`, label: spec.title.replace(/ \(built-in\)$/, ""), description: spec.description })),
    },
    {
      title: "Components",
      items: palette.components.map((component) => ({
        key: `component:${component.name}:${String(component.version)}`,
        label: `${component.name}:${String(component.version)}`,
        description: component.description || `component ${component.name}, version ${String(component.version)}`,
      })),
    },
  ];
}

export function PaletteList({
  palette,
  onAdd,
  disabled,
}: {
  palette: Palette;
  onAdd: (key: string) => void;
  disabled: boolean;
}) {
  const start = (key: string) => (event: DragEvent<HTMLButtonElement>) => {
    event.dataTransfer.setData(PALETTE_DRAG_TYPE, key);
    event.dataTransfer.effectAllowed = "copy";
  };
  return (
    <nav className="design-palette" aria-label="Palette">
      {paletteGroups(palette).map((group) => (
        <section key={group.title}>
          <h2>{group.title}</h2>
          {group.items.length === 0 ? (
            <p className="empty">
              {group.title === "Components" ? (
                <>
                  None yet: <code>modelyard component create</code>.
                </>
              ) : (
                "None."
              )}
            </p>
          ) : (
            <ul>
              {group.items.map((item) => (
                <li key={item.key}>
                  <button
                    type="button"
                    className="palette-item"
                    draggable={!disabled}
                    disabled={disabled}
                    data-palette={item.key}
                    title={item.description}
                    onDragStart={start(item.key)}
                    onClick={() => {
                      onAdd(item.key);
                    }}
                  >
                    {item.label}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </nav>
  );
}
