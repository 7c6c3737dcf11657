// A pipeline's YAML (Azure ML v2's `type: pipeline`, as the CLI reads it) as the designer's
// graph, and each edit the canvas makes as a change to that text. The text is the source of
// truth: an edit rewrites only the part it touches (the `yaml` library keeps the rest, comments
// included), and an unedited pipeline saves back byte for byte as it came.
import { Document, isMap, isScalar, parseDocument } from "yaml";
import type { ComponentSpec, Palette, StepTypeSpec } from "../api/designer";

export type NodeKind = "input" | "step" | "output";

/** A port: where an edge ends. `types`: what it takes (an input) or gives (an output, one);
 * `ANY` where a command's undeclared input takes the type of what feeds it. */
export interface Port {
  name: string;
  types: string[];
  required: boolean;
}

export interface DesignNode {
  id: string;
  kind: NodeKind;
  name: string;
  title: string; // what it is: "AutoML (built-in)", "component train:2", "data asset", …
  stepType: string | null;
  inputs: Port[];
  outputs: Port[];
}

export interface DesignEdge {
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

export interface Graph {
  nodes: DesignNode[];
  edges: DesignEdge[];
  /** The text is not a pipeline mapping at all (YAML syntax): nothing else can be shown. */
  error: string | null;
}

export const ANY = "*";
export const VALUE_PORT = "value"; // an input node's one output, an output node's one input
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PARENT_INPUT = /^\s*\$\{\{\s*parent\.inputs\.([^.}\s]+)\s*\}\}\s*$/;
const STEP_OUTPUT = /^\s*\$\{\{\s*parent\.jobs\.([^.}\s]+)\.outputs\.([^.}\s]+)\s*\}\}\s*$/;
const PARENT_OUTPUT = /^\s*\$\{\{\s*parent\.outputs\.([^.}\s]+)\s*\}\}\s*$/;

export const nodeId = (kind: NodeKind, name: string) => `${kind}:${name}`;

export function parseNodeId(id: string): { kind: NodeKind; name: string } {
  const at = id.indexOf(":");
  return { kind: id.slice(0, at) as NodeKind, name: id.slice(at + 1) };
}

type Mapping = Record<string, unknown>;

function asMapping(value: unknown): Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Mapping) : {};
}

/** The text as a `yaml` document, or the reason it is not a mapping. */
export function parsePipeline(text: string): { doc: Document; data: Mapping } | { error: string } {
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0].line;
    return { error: `the YAML does not parse${line === undefined ? "" : ` at line ${String(line)}`}: ${first.message.split("\n")[0] ?? ""}` };
  }
  const data: unknown = doc.toJS();
  if (data !== null && data !== undefined && !isMap(doc.contents)) {
    return { error: "the YAML is not a mapping: a pipeline starts with 'type: pipeline' and 'jobs:'" };
  }
  return { doc, data: asMapping(data) };
}

// Reading ----------------------------------------------------------------------------------

/** `component: azureml:train:2`, `azureml:train@latest`, `train:2`, `train` → name and version. */
export function parseComponentReference(reference: string): { name: string; version: string } {
  const bare = reference.replace(/^azureml:/, "");
  const at = bare.indexOf("@");
  if (at >= 0) return { name: bare.slice(0, at), version: bare.slice(at + 1) };
  const colon = bare.lastIndexOf(":");
  return colon >= 0 ? { name: bare.slice(0, colon), version: bare.slice(colon + 1) } : { name: bare, version: "latest" };
}

export function componentOf(palette: Palette, reference: string) {
  const { name, version } = parseComponentReference(reference);
  return palette.components.find((c) => c.name === name && (version === "latest" || String(c.version) === version));
}

export function stepTypeOf(palette: Palette, type: string): StepTypeSpec | undefined {
  return palette.step_types.find((spec) => spec.type === type);
}

/** The field of a built-in kind that names the registered component it runs (a sweep's
 * `trial`), or undefined. */
export function componentFieldOf(kind: StepTypeSpec | undefined): string | undefined {
  return kind?.fields.find((field) => field.kind === "component")?.name;
}

/** The component a built-in step runs through its component field (a sweep's `trial:
 * azureml:train:1`; recorded, as a run's pipeline has it: a folder trial beside `component`). */
function trialReference(spec: Mapping, field: string): string | null {
  const value = spec[field];
  if (typeof value === "string") return value;
  return typeof spec.component === "string" ? spec.component : null;
}

/** A binding's text: `${{…}}` (a scalar) or the `path`/`value` of `{type, path|value}`. */
function bindingText(value: unknown): unknown {
  const mapping = asMapping(value);
  if ("path" in mapping) return mapping.path;
  if ("value" in mapping) return mapping.value;
  return value;
}

function declaredType(value: unknown): string | null {
  const type = asMapping(value).type;
  return typeof type === "string" ? type : null;
}

export function literalType(value: unknown): string {
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return "string";
}

function inputNode(name: string, spec: unknown): DesignNode {
  const mapping = asMapping(spec);
  const type = declaredType(spec) ?? literalType(spec);
  const path = mapping.path;
  const isAsset = typeof path === "string" && /^(azureml:|data:)/.test(path);
  return {
    id: nodeId("input", name),
    kind: "input",
    name,
    title: isAsset ? `data asset ${path.replace(/^(azureml:|data:)/, "")}` : `pipeline input (${type})`,
    stepType: null,
    inputs: [],
    outputs: [{ name: VALUE_PORT, types: [type], required: false }],
  };
}

function outputNode(name: string, spec: unknown): DesignNode {
  const type = declaredType(spec) ?? "uri_folder";
  return {
    id: nodeId("output", name),
    kind: "output",
    name,
    title: `pipeline output (${type})`,
    stepType: null,
    inputs: [{ name: VALUE_PORT, types: [type], required: false }],
    outputs: [],
  };
}

/** A component's inputs as a step's ports, but those in `skip` (a sweep's searched ones); one
 * must be bound when it is neither optional nor defaulted, as the server judges. */
function componentInputs(component: ComponentSpec | undefined, skip: ReadonlySet<string>): Port[] {
  return (component?.inputs ?? [])
    .filter((port) => !skip.has(port.name))
    .map((port) => ({ name: port.name, types: [port.type], required: !port.optional && (port.default ?? null) === null }));
}

function stepNode(name: string, spec: Mapping, palette: Palette): DesignNode {
  const type = typeof spec.type === "string" ? spec.type : "command";
  const declaredInputs = asMapping(spec.inputs);
  const declaredOutputs = asMapping(spec.outputs);
  let title: string;
  let inputs: Port[];
  let outputs: Port[];
  const kind = stepTypeOf(palette, type);
  const trialField = componentFieldOf(kind);
  const reference = typeof spec.component === "string" ? spec.component : null;
  const component = reference === null ? undefined : componentOf(palette, reference);
  if (kind !== undefined && trialField !== undefined) {
    // A sweep: its component's inputs but those its search space sets; its kind's outputs.
    const trial = trialReference(spec, trialField);
    const known = trial === null ? undefined : componentOf(palette, trial);
    const searched = new Set(Object.keys(asMapping(spec.search_space)));
    const pinned = trial === null ? null : parseComponentReference(trial);
    title = pinned === null ? kind.title : `${type} over component ${pinned.name}:${known === undefined ? pinned.version : String(known.version)}`;
    inputs = componentInputs(known, searched);
    outputs = kind.outputs.map((port) => ({ name: port.name, types: [port.type], required: false }));
  } else if (component !== undefined) {
    title = `component ${component.name}:${String(component.version)}`;
    inputs = componentInputs(component, new Set());
    outputs = component.outputs.map((port) => ({ name: port.name, types: [port.type], required: false }));
  } else if (kind !== undefined && type !== "command" && reference === null) {
    title = kind.title;
    inputs = kind.inputs.map((port) => ({ name: port.name, types: port.types, required: port.required }));
    outputs = kind.outputs.map((port) => ({ name: port.name, types: [port.type], required: false }));
  } else {
    // A command, or a component the palette does not list (an older or archived version, as a
    // run's recorded pipeline pins): the ports it declares.
    const pinned = reference === null ? null : parseComponentReference(reference);
    title = pinned === null ? (kind?.title ?? type) : `component ${pinned.name}:${pinned.version}`;
    inputs = [];
    outputs = Object.entries(declaredOutputs).map(([port, value]) => ({
      name: port,
      types: [declaredType(value) ?? "uri_folder"],
      required: false,
    }));
  }
  // What the step declares beyond its kind's ports: a command's (and a sweep trial's) own.
  for (const [port, value] of Object.entries(declaredInputs)) {
    if (!inputs.some((known) => known.name === port)) {
      inputs.push({ name: port, types: [declaredType(value) ?? ANY], required: true });
    }
  }
  return { id: nodeId("step", name), kind: "step", name, title, stepType: type, inputs, outputs };
}

/** The pipeline's inputs, steps and outputs as nodes, its bindings as edges. */
export function graphOf(text: string, palette: Palette): Graph {
  const parsed = parsePipeline(text);
  if ("error" in parsed) return { nodes: [], edges: [], error: parsed.error };
  const { data } = parsed;
  const nodes: DesignNode[] = [];
  const edges: DesignEdge[] = [];
  for (const [name, spec] of Object.entries(asMapping(data.inputs))) nodes.push(inputNode(name, spec));
  const jobs = asMapping(data.jobs);
  for (const [name, spec] of Object.entries(jobs)) nodes.push(stepNode(name, asMapping(spec), palette));
  for (const [name, spec] of Object.entries(asMapping(data.outputs))) nodes.push(outputNode(name, spec));
  const ids = new Set(nodes.map((node) => node.id));
  const edge = (source: string, sourcePort: string, target: string, targetPort: string) => {
    if (ids.has(source) && ids.has(target)) {
      edges.push({ id: `${source}.${sourcePort}->${target}.${targetPort}`, source, sourcePort, target, targetPort });
    }
  };
  for (const [step, spec] of Object.entries(jobs)) {
    const target = nodeId("step", step);
    for (const [port, value] of Object.entries(asMapping(asMapping(spec).inputs))) {
      const binding = bindingText(value);
      if (typeof binding !== "string") continue;
      const fromInput = PARENT_INPUT.exec(binding);
      const fromStep = STEP_OUTPUT.exec(binding);
      if (fromInput?.[1] !== undefined) edge(nodeId("input", fromInput[1]), VALUE_PORT, target, port);
      else if (fromStep?.[1] !== undefined && fromStep[2] !== undefined) {
        edge(nodeId("step", fromStep[1]), fromStep[2], target, port);
      }
    }
    for (const [port, value] of Object.entries(asMapping(asMapping(spec).outputs))) {
      const path = asMapping(value).path;
      const toOutput = typeof path === "string" ? PARENT_OUTPUT.exec(path) : null;
      if (toOutput?.[1] !== undefined) edge(target, port, nodeId("output", toOutput[1]), VALUE_PORT);
    }
  }
  return { nodes, edges, error: null };
}

/** The literal bound to a step's input (not a `${{…}}` reference), if any. */
export function literalInput(text: string, step: string, port: string): unknown {
  const parsed = parsePipeline(text);
  if ("error" in parsed) return undefined;
  const binding = bindingText(asMapping(asMapping(asMapping(asMapping(parsed.data.jobs)[step]).inputs))[port]);
  return typeof binding === "string" && binding.includes("${{") ? undefined : binding;
}

// Connecting -------------------------------------------------------------------------------

export interface Connection {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

function portOf(graph: Graph, id: string, port: string, side: "inputs" | "outputs"): Port | undefined {
  return graph.nodes.find((node) => node.id === id)?.[side].find((p) => p.name === port);
}

function label(id: string, port: string): string {
  const { kind, name } = parseNodeId(id);
  if (kind !== "step") return `${kind === "input" ? "input" : "output"} '${name}'`;
  return `${name}.${port}`;
}

/** Whether a port of type `target` may be fed from `source`: the server's rule (palette). */
export function accepts(palette: Palette, target: string, source: string): boolean {
  if (target === ANY || source === ANY) return true;
  const spec = palette.port_types.find((type) => type.type === target);
  return spec === undefined ? target === source : spec.accepts.includes(source);
}

/** Why this connection is refused, in one line; null when it may be made. */
export function connectionProblem(graph: Graph, palette: Palette, connection: Connection): string | null {
  const { source, sourcePort, target, targetPort } = connection;
  const from = portOf(graph, source, sourcePort, "outputs");
  const to = portOf(graph, target, targetPort, "inputs");
  if (from === undefined || to === undefined) return "connect an output (right side) to an input (left side)";
  if (source === target) return `${parseNodeId(source).name} cannot feed itself: connect it to another step`;
  const sourceType = from.types[0] ?? ANY;
  if (!to.types.some((type) => accepts(palette, type, sourceType))) {
    return `${label(target, targetPort)} takes ${to.types.join(" or ")}; ${label(source, sourcePort)} gives ${sourceType}: connect an output of a matching type`;
  }
  if (parseNodeId(target).kind === "step" && parseNodeId(source).kind === "step") {
    const path = pathBetween(graph, target, source);
    if (path !== null) {
      const names = [...path, target].map((id) => parseNodeId(id).name);
      return `steps ${names.join(" → ")} would form a cycle: a step cannot read, directly or through others, its own output`;
    }
  }
  return null;
}

/** The node ids from `from` to `to` along edges, or null when `to` cannot be reached. */
function pathBetween(graph: Graph, from: string, to: string): string[] | null {
  const previous = new Map<string, string>([[from, ""]]);
  const queue = [from];
  while (queue.length > 0) {
    const current = queue.shift() ?? "";
    if (current === to) {
      const path = [current];
      let at = previous.get(current) ?? "";
      while (at !== "") {
        path.unshift(at);
        at = previous.get(at) ?? "";
      }
      return path;
    }
    for (const edge of graph.edges) {
      if (edge.source === current && !previous.has(edge.target)) {
        previous.set(edge.target, current);
        queue.push(edge.target);
      }
    }
  }
  return null;
}

// Editing: each returns the new text ---------------------------------------------------------

/** The text with `edit` applied to its document, in the file's own indentation. */
function edited(text: string, edit: (doc: Document) => void): string {
  const parsed = parsePipeline(text);
  if ("error" in parsed) throw new Error(parsed.error);
  edit(parsed.doc);
  // Flow collections as the CLI's users write them (`{type: uri_folder}`), not padded.
  return parsed.doc.toString({
    lineWidth: 0,
    indent: indentationOf(text),
    indentSeq: sequencesIndented(text),
    flowCollectionPadding: false,
  });
}

function indentationOf(text: string): number {
  const match = /^( +)\S/m.exec(text);
  return match?.[1] === undefined ? 2 : Math.min(match[1].length, 8);
}

function sequencesIndented(text: string): boolean {
  // `key:\n  - item` (indented, the library's default) or `key:\n- item`.
  return !/:\s*\n-\s/m.test(text);
}

const stepInputPath = (step: string, port: string) => ["jobs", step, "inputs", port];

function reference(source: string, sourcePort: string): string {
  const { kind, name } = parseNodeId(source);
  return kind === "input" ? `\${{parent.inputs.${name}}}` : `\${{parent.jobs.${name}.outputs.${sourcePort}}}`;
}

/** Bind the target input to the source (replacing what fed it), or a step's output to a
 * pipeline output. */
export function connect(text: string, connection: Connection): string {
  const { source, sourcePort, target, targetPort } = connection;
  const to = parseNodeId(target);
  return edited(text, (doc) => {
    if (to.kind === "output") {
      const path = ["jobs", parseNodeId(source).name, "outputs", sourcePort];
      const current = doc.getIn(path);
      if (isMap(current)) current.set("path", `\${{parent.outputs.${to.name}}}`);
      else doc.setIn(path, doc.createNode({ path: `\${{parent.outputs.${to.name}}}` }));
      return;
    }
    const path = stepInputPath(to.name, targetPort);
    const current = doc.getIn(path);
    if (isMap(current) && current.has("path")) current.set("path", reference(source, sourcePort));
    else if (isMap(current) && current.has("value")) current.set("value", reference(source, sourcePort));
    else doc.setIn(path, reference(source, sourcePort));
  });
}

export function disconnect(text: string, edge: DesignEdge): string {
  const to = parseNodeId(edge.target);
  return edited(text, (doc) => {
    if (to.kind === "output") {
      const path = ["jobs", parseNodeId(edge.source).name, "outputs", edge.sourcePort];
      const current = doc.getIn(path);
      if (isMap(current) && current.items.length > 1) current.delete("path");
      else doc.deleteIn(path);
    } else {
      doc.deleteIn(stepInputPath(to.name, edge.targetPort));
    }
    pruneEmpty(doc, ["jobs", to.name, "inputs"]);
    pruneEmpty(doc, ["jobs", parseNodeId(edge.source).name, "outputs"]);
  });
}

function pruneEmpty(doc: Document, path: string[]): void {
  const node = doc.getIn(path);
  if (isMap(node) && node.items.length === 0) doc.deleteIn(path);
}

/** A name not yet taken by a node of that kind: `train`, `train_2`, … */
export function freeName(graph: Graph, kind: NodeKind, base: string): string {
  const clean = base.replace(/[^A-Za-z0-9_]/g, "_").replace(/^([^A-Za-z_])/, "_$1").slice(0, 60) || "step";
  const taken = new Set(graph.nodes.filter((node) => node.kind === kind).map((node) => node.name));
  if (!taken.has(clean)) return clean;
  for (let count = 2; ; count += 1) {
    const name = `${clean}_${String(count)}`;
    if (!taken.has(name)) return name;
  }
}

export type NewNode =
  | { kind: "step"; stepType: string; component?: string; fields?: Record<string, unknown> }
  | { kind: "input"; type: string; path?: string; value?: unknown }
  | { kind: "output"; type: string };

/** Add a node named `name`; a built-in step starts with its required fields' defaults. */
export function addNode(text: string, name: string, node: NewNode): string {
  const source = text.trim() === "" ? newPipelineText(name) : text;
  return edited(source, (doc) => {
    if (node.kind === "step") {
      // A component's step names only the component: its type is the component's own.
      const spec: Mapping = node.component === undefined ? { type: node.stepType } : { component: node.component };
      Object.assign(spec, node.fields ?? {});
      addEntry(doc, "jobs", name, spec);
    } else if (node.kind === "input") {
      const spec: Mapping = { type: node.type };
      if (node.path !== undefined) spec.path = node.path;
      else spec.default = node.value ?? "";
      addEntry(doc, "inputs", name, spec);
    } else {
      addEntry(doc, "outputs", name, { type: node.type });
    }
  });
}

function addEntry(doc: Document, section: string, name: string, spec: Mapping): void {
  const current = doc.get(section);
  if (!isMap(current)) doc.set(section, doc.createNode({}));
  const map = doc.get(section);
  if (isMap(map)) {
    map.flow = false;
    map.set(name, doc.createNode(spec));
  }
}

/** A new draft's text: named after the draft (its name is an experiment's name too, by the
 * server's rule for drafts), quoted where YAML would read it as something else. */
export function newPipelineText(name: string): string {
  const named = name.trim() === "" ? "pipeline" : name.trim();
  const doc = new Document({
    type: "pipeline",
    display_name: named,
    experiment_name: named,
    settings: { default_compute: "local" },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Remove a node and every binding that named it. */
export function removeNode(text: string, graph: Graph, id: string): string {
  const { kind, name } = parseNodeId(id);
  const touching = graph.edges.filter((edge) => edge.source === id || edge.target === id);
  let next = text;
  for (const edge of touching) {
    // An edge into the removed step goes with the step; the others are unbound one by one.
    if (!(kind === "step" && edge.target === id)) next = disconnect(next, edge);
  }
  const section = kind === "step" ? "jobs" : kind === "input" ? "inputs" : "outputs";
  return edited(next, (doc) => {
    doc.deleteIn([section, name]);
    pruneEmpty(doc, [section]);
  });
}

function validName(name: string): string | null {
  return NAME.test(name) ? null : `'${name}' is not a valid name: use letters, digits and _ (not starting with a digit), up to 64`;
}

/** Rename a node where it is defined and everywhere it is referenced, keeping its place. */
export function renameNode(text: string, graph: Graph, id: string, to: string): string {
  const { kind, name } = parseNodeId(id);
  const problem = validName(to);
  if (problem !== null) throw new Error(problem);
  if (graph.nodes.some((node) => node.kind === kind && node.name === to)) {
    throw new Error(`there is already a ${kind === "step" ? "step" : `pipeline ${kind}`} named '${to}': choose another name`);
  }
  const section = kind === "step" ? "jobs" : kind === "input" ? "inputs" : "outputs";
  return edited(text, (doc) => {
    const map = doc.get(section);
    if (isMap(map)) {
      for (const pair of map.items) {
        if (isScalar(pair.key) && pair.key.value === name) pair.key.value = to;
      }
    }
    for (const edge of graph.edges) {
      if (edge.source !== id && edge.target !== id) continue;
      const renamed = (nodeOf: string) => (nodeOf === id ? nodeId(kind, to) : nodeOf);
      const target = parseNodeId(renamed(edge.target));
      const source = renamed(edge.source);
      if (target.kind === "output") {
        const path = ["jobs", parseNodeId(source).name, "outputs", edge.sourcePort];
        const current = doc.getIn(path);
        if (isMap(current)) current.set("path", `\${{parent.outputs.${target.name}}}`);
      } else {
        const path = stepInputPath(target.name, edge.targetPort);
        const current = doc.getIn(path);
        if (isMap(current) && current.has("path")) current.set("path", reference(source, edge.sourcePort));
        else if (isMap(current) && current.has("value")) current.set("value", reference(source, edge.sourcePort));
        else doc.setIn(path, reference(source, edge.sourcePort));
      }
    }
  });
}

/** Set (or, with `undefined`, remove) a field at `path` (e.g. `["jobs", "train", "compute"]`). */
export function setField(text: string, path: (string | number)[], value: unknown): string {
  return edited(text, (doc) => {
    if (value === undefined) {
      doc.deleteIn(path);
      return;
    }
    doc.setIn(path, typeof value === "object" && value !== null ? doc.createNode(value) : value);
  });
}

/** Set (or remove) a step's field; when it is a step whose ports follow its fields (a sweep:
 * its trial component, its search space), the bindings of inputs it no longer has go too. */
export function setStepField(text: string, palette: Palette, step: string, field: string, value: unknown): string {
  const next = setField(text, ["jobs", step, field], value);
  const spec = asMapping(asMapping(fieldOf(next, ["jobs"]))[step]);
  const type = typeof spec.type === "string" ? spec.type : "command";
  const trialField = componentFieldOf(stepTypeOf(palette, type));
  if (trialField === undefined) return next;
  const trial = trialReference(spec, trialField);
  const known = trial === null ? undefined : componentOf(palette, trial);
  if (known === undefined) return next; // its ports are not known here: the server judges
  const node = stepNode(step, { ...spec, inputs: {} }, palette);
  const stale = Object.keys(asMapping(spec.inputs)).filter((port) => !node.inputs.some((p) => p.name === port));
  if (stale.length === 0) return next;
  return edited(next, (doc) => {
    for (const port of stale) doc.deleteIn(stepInputPath(step, port));
    pruneEmpty(doc, ["jobs", step, "inputs"]);
  });
}

/** The value at `path` in the text's data (plain JS), or undefined. */
export function fieldOf(text: string, path: (string | number)[]): unknown {
  const parsed = parsePipeline(text);
  if ("error" in parsed) return undefined;
  let at: unknown = parsed.data;
  for (const key of path) at = asMapping(at)[String(key)];
  return at;
}
