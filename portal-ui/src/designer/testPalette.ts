// A palette as the server sends it (server/routes/pipeline_designer.py), for the designer's tests.
import type { Palette } from "../api/designer";

export const PALETTE: Palette = {
  step_types: [
    { type: "command", title: "command", description: "Your script.", inputs: [], outputs: [], runs_code: true, fields: [] },
    {
      type: "automl",
      title: "AutoML (built-in)",
      description: "Tries models on a table.",
      inputs: [{ name: "training_data", types: ["uri_file", "uri_folder"], required: true }],
      outputs: [{ name: "best_model", type: "custom_model" }],
      runs_code: false,
      fields: [
        { name: "task", required: true, kind: "string", default: "classification", description: "" },
        { name: "target_column_name", required: false, kind: "string", default: null, description: "" },
        { name: "limits", required: false, kind: "mapping", default: null, description: "" },
      ],
    },
    {
      type: "batch_score",
      title: "batch scoring (built-in)",
      description: "Scores data with a model.",
      inputs: [
        { name: "model", types: ["custom_model", "string"], required: true },
        { name: "data", types: ["uri_folder"], required: true },
      ],
      outputs: [{ name: "scores", type: "uri_folder" }],
      runs_code: false,
      fields: [{ name: "mini_batch_size", required: false, kind: "integer", default: 10, description: "" }],
    },
    {
      type: "sweep",
      title: "sweep (built-in)",
      description: "Runs a component's trials over a search space of its inputs.",
      inputs: [],
      outputs: [{ name: "best_trial", type: "uri_folder" }],
      runs_code: true,
      fields: [
        { name: "objective", required: true, kind: "mapping", default: null, description: "" },
        { name: "search_space", required: true, kind: "mapping", default: null, description: "" },
        { name: "trial", required: true, kind: "component", default: null, description: "" },
      ],
    },
  ],
  port_types: [
    { type: "uri_folder", is_data: true, accepts: ["uri_folder", "custom_model"] },
    { type: "uri_file", is_data: true, accepts: ["uri_file"] },
    { type: "custom_model", is_data: true, accepts: ["custom_model"] },
    { type: "string", is_data: false, accepts: ["string"] },
    { type: "number", is_data: false, accepts: ["number", "integer"] },
    { type: "integer", is_data: false, accepts: ["integer"] },
    { type: "boolean", is_data: false, accepts: ["boolean"] },
  ],
  components: [
    {
      name: "prep",
      version: 2,
      description: "Cleans a table.",
      inputs: [
        { name: "raw", type: "uri_folder", optional: false, default: null },
        { name: "ratio", type: "number", optional: true, default: 0.5 },
      ],
      outputs: [{ name: "clean", type: "uri_folder" }],
    },
  ],
  computes: ["local", "cpu-cluster"],
  data_assets: [{ name: "flowers", latest_version: 3, type: "uri_folder" }],
};
