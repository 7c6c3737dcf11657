// The side panel: the selected node's name, compute, inputs and fields (or, with nothing
// selected, the pipeline's own settings), each checked as it is typed and written into the YAML
// when committed (Enter or leaving the field). Every input can be connected from here too, so
// the whole pipeline can be built with the keyboard alone.
import { useId, useState } from "react";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import type { FieldKind, FieldSpec, Palette, Problem } from "../api/designer";
import {
  type Connection,
  type DesignNode,
  type Graph,
  componentFieldOf,
  fieldOf,
  literalInput,
  parseNodeId,
  stepTypeOf,
} from "./pipelineDoc";

export interface PanelActions {
  setField: (path: string[], value: unknown) => void;
  /** A step's own field (its kind's): its ports may follow it (a sweep's trial, search space). */
  setStepField: (step: string, field: string, value: unknown) => void;
  rename: (id: string, to: string) => string | null; // the refusal, or null when renamed
  connect: (connection: Connection) => string | null;
  disconnect: (target: string, port: string) => void;
  remove: (id: string) => void;
}

interface Props {
  text: string;
  graph: Graph;
  palette: Palette;
  selected: DesignNode | null;
  problem: Problem | null;
  editable: boolean;
  actions: PanelActions;
}

export function SidePanel({ text, graph, palette, selected, problem, editable, actions }: Props) {
  return (
    <aside className="design-panel" aria-label="Properties">
      {selected === null ? (
        <PipelineSettings text={text} palette={palette} editable={editable} actions={actions} problem={problem} />
      ) : (
        <NodeSettings
          key={selected.id}
          text={text}
          graph={graph}
          palette={palette}
          node={selected}
          editable={editable}
          actions={actions}
          problem={problem?.step === selected.name && selected.kind === "step" ? problem : null}
        />
      )}
    </aside>
  );
}

function PipelineSettings({ text, palette, editable, actions, problem }: Omit<Props, "graph" | "selected">) {
  return (
    <>
      <h2>Pipeline</h2>
      {problem !== null && problem.step === null && <ProblemLine problem={problem} />}
      <TextField
        label="Display name"
        value={fieldOf(text, ["display_name"])}
        kind="string"
        required
        disabled={!editable}
        onCommit={(value) => {
          actions.setField(["display_name"], value);
        }}
      />
      <TextField
        label="Experiment"
        value={fieldOf(text, ["experiment_name"])}
        kind="string"
        required
        disabled={!editable}
        onCommit={(value) => {
          actions.setField(["experiment_name"], value);
        }}
      />
      <ComputeSelect
        label="Default compute"
        palette={palette}
        value={fieldOf(text, ["settings", "default_compute"])}
        emptyLabel="local (the default)"
        disabled={!editable}
        onChange={(value) => {
          actions.setField(["settings", "default_compute"], value);
        }}
      />
      <CheckField
        label="Continue on step failure"
        value={fieldOf(text, ["settings", "continue_on_step_failure"])}
        disabled={!editable}
        onChange={(value) => {
          actions.setField(["settings", "continue_on_step_failure"], value || undefined);
        }}
      />
      <CheckField
        label="Force rerun (no reuse)"
        value={fieldOf(text, ["settings", "force_rerun"])}
        disabled={!editable}
        onChange={(value) => {
          actions.setField(["settings", "force_rerun"], value || undefined);
        }}
      />
    </>
  );
}

function NodeSettings({
  text,
  graph,
  palette,
  node,
  editable,
  actions,
  problem,
}: Omit<Props, "selected"> & { node: DesignNode }) {
  const [renameError, setRenameError] = useState<string | null>(null);
  const section = node.kind === "step" ? "jobs" : node.kind === "input" ? "inputs" : "outputs";
  const base = [section, node.name];
  const spec = node.stepType === null ? undefined : stepTypeOf(palette, node.stepType);
  // A component's step has no fields of its own; a sweep over one has its kind's.
  const isComponent = typeof fieldOf(text, [...base, "component"]) === "string" && componentFieldOf(spec) === undefined;
  return (
    <>
      <h2>
        {node.kind === "step" ? "Step" : node.kind === "input" ? "Pipeline input" : "Pipeline output"} {node.name}
      </h2>
      <p className="design-panel-kind">{node.title}</p>
      {problem !== null && <ProblemLine problem={problem} />}
      <TextField
        label="Name"
        value={node.name}
        kind="string"
        required
        disabled={!editable}
        error={renameError}
        onCommit={(value) => {
          if (typeof value === "string" && value !== node.name) setRenameError(actions.rename(node.id, value));
        }}
      />
      {node.kind === "step" && (
        <>
          <ComputeSelect
            label="Compute"
            palette={palette}
            value={fieldOf(text, [...base, "compute"])}
            emptyLabel="the pipeline's default"
            disabled={!editable}
            onChange={(value) => {
              actions.setField([...base, "compute"], value);
            }}
          />
          <h3>Inputs</h3>
          {node.inputs.length === 0 && <p className="empty">None.</p>}
          {node.inputs.map((port) => (
            <InputBinding key={port.name} text={text} graph={graph} palette={palette} node={node} port={port.name} editable={editable} actions={actions} />
          ))}
          {spec !== undefined && !isComponent && spec.fields.length > 0 && (
            <>
              <h3>Settings</h3>
              {spec.fields.map((field) => (
                <SpecField key={field.name} field={field} palette={palette} value={fieldOf(text, [...base, field.name])} disabled={!editable} problemField={problem?.field ?? null} onCommit={(value) => {
                  actions.setStepField(node.name, field.name, value);
                }} />
              ))}
            </>
          )}
          <CheckField
            label="Force rerun (no reuse)"
            value={fieldOf(text, [...base, "force_rerun"])}
            disabled={!editable}
            onChange={(value) => {
              actions.setField([...base, "force_rerun"], value || undefined);
            }}
          />
        </>
      )}
      {node.kind !== "step" && (
        <PortSettings text={text} palette={palette} node={node} base={base} editable={editable} actions={actions} />
      )}
      {editable && (
        <button
          type="button"
          className="danger-button"
          onClick={() => {
            actions.remove(node.id);
          }}
        >
          Remove {node.name}
        </button>
      )}
    </>
  );
}

function PortSettings({
  text,
  palette,
  node,
  base,
  editable,
  actions,
}: {
  text: string;
  palette: Palette;
  node: DesignNode;
  base: string[];
  editable: boolean;
  actions: PanelActions;
}) {
  const listId = useId();
  const declared = fieldOf(text, [...base, "type"]);
  const type = typeof declared === "string" ? declared : "uri_folder";
  const isData = palette.port_types.find((spec) => spec.type === type)?.is_data ?? true;
  return (
    <>
      <label className="design-field">
        Type
        <select
          value={type}
          disabled={!editable}
          onChange={(event) => {
            actions.setField([...base, "type"], event.target.value);
          }}
        >
          {palette.port_types.map((spec) => (
            <option key={spec.type} value={spec.type}>
              {spec.type}
            </option>
          ))}
        </select>
      </label>
      {node.kind === "input" && isData && (
        <>
          <TextField
            label="Path or data asset"
            value={fieldOf(text, [...base, "path"])}
            kind="string"
            required
            list={listId}
            disabled={!editable}
            onCommit={(value) => {
              actions.setField([...base, "path"], value);
            }}
          />
          <datalist id={listId}>
            {palette.data_assets.map((asset) => (
              <option key={asset.name} value={`data:${asset.name}@latest`} />
            ))}
          </datalist>
        </>
      )}
      {node.kind === "input" && !isData && (
        <TextField
          label="Default value"
          value={fieldOf(text, [...base, "default"])}
          kind={type === "integer" ? "integer" : type === "number" ? "number" : type === "boolean" ? "boolean" : "string"}
          required={false}
          disabled={!editable}
          onCommit={(value) => {
            actions.setField([...base, "default"], value);
          }}
        />
      )}
    </>
  );
}

function InputBinding({
  text,
  graph,
  palette,
  node,
  port,
  editable,
  actions,
}: {
  text: string;
  graph: Graph;
  palette: Palette;
  node: DesignNode;
  port: string;
  editable: boolean;
  actions: PanelActions;
}) {
  const [refusal, setRefusal] = useState<string | null>(null);
  const spec = node.inputs.find((p) => p.name === port);
  const types = spec?.types ?? [];
  const takesLiteral = types.some((type) => palette.port_types.find((t) => t.type === type)?.is_data === false);
  const edge = graph.edges.find((e) => e.target === node.id && e.targetPort === port);
  const current = edge === undefined ? "" : `${edge.source}|${edge.sourcePort}`;
  const sources = graph.nodes.filter((other) => other.id !== node.id).flatMap((other) =>
    other.outputs.map((out) => ({
      value: `${other.id}|${out.name}`,
      label: `${other.kind === "input" ? `input ${other.name}` : `${other.name}.${out.name}`} (${out.types.join("|")})`,
    })),
  );
  const literal = edge === undefined ? literalInput(text, node.name, port) : undefined;
  const id = useId();
  return (
    <div className="design-binding" data-binding={port}>
      <label htmlFor={id}>
        {port}
        {spec?.required ? " *" : ""} <span className="port-type">{types.join(" or ")}</span>
      </label>
      <select
        id={id}
        value={current}
        disabled={!editable}
        aria-invalid={refusal !== null}
        onChange={(event) => {
          const [source = "", sourcePort = ""] = event.target.value.split("|");
          if (source === "") {
            actions.disconnect(node.id, port);
            setRefusal(null);
            return;
          }
          setRefusal(actions.connect({ source, sourcePort, target: node.id, targetPort: port }));
        }}
      >
        <option value="">{literal === undefined ? "(not connected)" : "(a value)"}</option>
        {sources.map((source) => (
          <option key={source.value} value={source.value}>
            {source.label}
          </option>
        ))}
      </select>
      {takesLiteral && edge === undefined && (
        <TextField
          label={`${port} value`}
          value={literal}
          kind={types.includes("integer") ? "integer" : types.includes("number") ? "number" : types.includes("boolean") ? "boolean" : "string"}
          required={false}
          disabled={!editable}
          onCommit={(value) => {
            actions.setField(["jobs", node.name, "inputs", port], value);
          }}
        />
      )}
      {refusal !== null && (
        <p className="error-text" role="alert">
          {refusal}
        </p>
      )}
      <span className="visually-hidden">{parseNodeId(node.id).name}</span>
    </div>
  );
}

function SpecField({
  field,
  palette,
  value,
  disabled,
  problemField,
  onCommit,
}: {
  field: FieldSpec;
  palette: Palette;
  value: unknown;
  disabled: boolean;
  problemField: string | null;
  onCommit: (value: unknown) => void;
}) {
  // The server's problem names a field or a key of it (`search_space.lr`).
  const flagged = problemField === field.name || (problemField?.startsWith(`${field.name}.`) ?? false);
  // A run's recorded sweep has its trial as a folder's: shown as text, as any mapping.
  if (field.kind === "component" && (typeof value === "string" || value === undefined)) {
    return <ComponentSelect field={field} palette={palette} value={value} disabled={disabled} flagged={flagged} onChange={onCommit} />;
  }
  if (field.kind === "boolean") {
    return <CheckField label={field.name} value={value} disabled={disabled} onChange={(checked) => {
      onCommit(checked);
    }} />;
  }
  return (
    <TextField
      label={field.name}
      value={value}
      kind={field.kind}
      required={field.required}
      placeholder={showValue(field.default, field.kind) || undefined}
      description={field.description}
      disabled={disabled}
      flagged={flagged}
      onCommit={onCommit}
    />
  );
}

/** A registered component, from the palette's (each one's latest version); a reference the
 * palette does not list (an older version, `@latest`) stays selectable as it is written. */
function ComponentSelect({
  field,
  palette,
  value,
  disabled,
  flagged,
  onChange,
}: {
  field: FieldSpec;
  palette: Palette;
  value: string | undefined;
  disabled: boolean;
  flagged: boolean;
  onChange: (value: string | undefined) => void;
}) {
  const id = useId();
  const references = palette.components.map((c) => `azureml:${c.name}:${String(c.version)}`);
  const current = value ?? "";
  const listed = current === "" || references.includes(current) ? references : [...references, current];
  return (
    <div className="design-field">
      <label htmlFor={id}>
        {field.name}
        {field.required ? " *" : ""}
      </label>
      <select
        id={id}
        value={current}
        disabled={disabled}
        aria-invalid={flagged}
        onChange={(event) => {
          onChange(event.target.value === "" ? undefined : event.target.value);
        }}
      >
        <option value="">(choose a component)</option>
        {listed.map((reference) => (
          <option key={reference} value={reference}>
            {reference.replace(/^azureml:/, "")}
            {references.includes(reference) ? "" : " (not in the palette)"}
          </option>
        ))}
      </select>
      {field.description && <span className="design-field-help">{field.description}</span>}
    </div>
  );
}

/** A typed text box: the draft is checked as typed, committed on Enter or blur when valid. */
function TextField({
  label,
  value,
  kind,
  required,
  disabled,
  onCommit,
  error,
  placeholder,
  description,
  list,
  flagged,
}: {
  label: string;
  value: unknown;
  kind: FieldKind;
  required: boolean;
  disabled: boolean;
  onCommit: (value: unknown) => void;
  error?: string | null;
  placeholder?: string | undefined;
  description?: string;
  list?: string;
  flagged?: boolean;
}) {
  const shown = showValue(value, kind);
  const [draft, setDraft] = useState(shown);
  // The value changed outside (undo, another field): show it (React's "adjust state on a prop
  // change" during render, not an effect).
  const [base, setBase] = useState(shown);
  if (base !== shown) {
    setBase(shown);
    setDraft(shown);
  }
  const problem = checkValue(draft, kind, required);
  const message = problem ?? error ?? null;
  const id = useId();
  const commit = () => {
    if (problem !== null || draft === shown) return;
    onCommit(readValue(draft, kind));
  };
  const multiline = kind === "mapping" || kind === "list";
  const common = {
    id,
    value: draft,
    disabled,
    placeholder,
    "aria-invalid": message !== null || flagged === true,
    "aria-describedby": message === null ? undefined : `${id}-error`,
    onBlur: commit,
  };
  return (
    <div className="design-field">
      <label htmlFor={id}>
        {label}
        {required ? " *" : ""}
      </label>
      {multiline ? (
        <textarea {...common} rows={3} onChange={(event) => {
          setDraft(event.target.value);
        }} />
      ) : (
        <input
          {...common}
          list={list}
          inputMode={kind === "number" || kind === "integer" ? "decimal" : undefined}
          onChange={(event) => {
            setDraft(event.target.value);
          }}
          onKeyDown={(event) => {
            if (event.key === "Enter") commit();
          }}
        />
      )}
      {description && <span className="design-field-help">{description}</span>}
      {message !== null && (
        <span className="error-text" id={`${id}-error`} role="alert">
          {message}
        </span>
      )}
    </div>
  );
}

function showValue(value: unknown, kind: FieldKind): string {
  if (value === undefined || value === null) return "";
  if (kind === "mapping" || kind === "list" || typeof value === "object") return toYaml(value, { flow: true, flowCollectionPadding: false }).trim();
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}

/** What is wrong with a typed value, in one line; null when it can be written. */
export function checkValue(draft: string, kind: FieldKind, required: boolean): string | null {
  const text = draft.trim();
  if (text === "") return required ? "required: give a value" : null;
  if (kind === "integer" && !/^-?\d+$/.test(text)) return `'${text}' is not a whole number`;
  if (kind === "number" && !Number.isFinite(Number(text))) return `'${text}' is not a number`;
  if (kind === "boolean" && !["true", "false"].includes(text)) return `'${text}' is not true or false`;
  if (kind === "mapping" || kind === "list") {
    try {
      const parsed: unknown = parseYaml(text);
      const isList = Array.isArray(parsed);
      const isMapping = typeof parsed === "object" && parsed !== null && !isList;
      if (kind === "list" && !isList) return "give a list, as [a, b]";
      if (kind === "mapping" && !isMapping) return "give a mapping, as {key: value}";
    } catch (error) {
      return `not readable YAML: ${(error as Error).message.split("\n")[0] ?? ""}`;
    }
  }
  return null;
}

function readValue(draft: string, kind: FieldKind): unknown {
  const text = draft.trim();
  if (text === "") return undefined;
  if (kind === "integer" || kind === "number") return Number(text);
  if (kind === "boolean") return text === "true";
  if (kind === "mapping" || kind === "list") return parseYaml(text) as unknown;
  return text;
}

function CheckField({
  label,
  value,
  disabled,
  onChange,
}: {
  label: string;
  value: unknown;
  disabled: boolean;
  onChange: (value: boolean) => void;
}) {
  return (
    <label className="design-check">
      <input
        type="checkbox"
        checked={value === true}
        disabled={disabled}
        onChange={(event) => {
          onChange(event.target.checked);
        }}
      />{" "}
      {label}
    </label>
  );
}

function ComputeSelect({
  label,
  palette,
  value,
  emptyLabel,
  disabled,
  onChange,
}: {
  label: string;
  palette: Palette;
  value: unknown;
  emptyLabel: string;
  disabled: boolean;
  onChange: (value: string | undefined) => void;
}) {
  const current = typeof value === "string" ? value : "";
  const names = palette.computes.includes(current) || current === "" ? palette.computes : [...palette.computes, current];
  return (
    <label className="design-field">
      {label}
      <select
        value={current}
        disabled={disabled}
        onChange={(event) => {
          onChange(event.target.value === "" ? undefined : event.target.value);
        }}
      >
        <option value="">{emptyLabel}</option>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
            {palette.computes.includes(name) ? "" : " (not in this workspace)"}
          </option>
        ))}
      </select>
    </label>
  );
}

function ProblemLine({ problem }: { problem: Problem }) {
  return (
    <p className="alert design-problem" role="alert">
      {problem.message}
    </p>
  );
}
