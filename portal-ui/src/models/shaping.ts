// What the models pages make of the registry's answers: the list's filter, aliases as badges
// ("champion → v3"), a recorded input/output schema read into fields and labels (the registry
// stores any JSON there; an image classifier's is Model Builder's ModelInput → ModelOutput),
// and the "how to use" snippets.
import type { ModelVersion, RegisteredModel } from "../api/types";

/** A model's page, or one version's, in the app. */
export function modelPath(name: string, version?: number): string {
  const model = `/models/${encodeURIComponent(name)}`;
  return version === undefined ? model : `${model}/versions/${String(version)}`;
}

/** The models whose name, framework or an alias holds `text` (any case). */
export function filterModels(models: RegisteredModel[], text: string): RegisteredModel[] {
  const wanted = text.trim().toLowerCase();
  if (!wanted) return models;
  return models.filter((model) =>
    [model.name, model.framework ?? "", ...Object.keys(model.aliases)].some((value) =>
      value.toLowerCase().includes(wanted),
    ),
  );
}

export interface AliasBadge {
  alias: string;
  version: number;
  label: string; // champion → v3
}

/** A model's aliases, by name, each with the version it points at. */
export function aliasBadges(aliases: Record<string, number>): AliasBadge[] {
  return Object.entries(aliases)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([alias, version]) => ({ alias, version, label: `${alias} → v${String(version)}` }));
}

/** Each version's aliases, taken from the model's summary (the one place they all are). */
export function aliasesByVersion(aliases: Record<string, number>): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const { alias, version } of aliasBadges(aliases)) {
    found.set(version, [...(found.get(version) ?? []), alias]);
  }
  return found;
}

export interface SchemaField {
  name: string;
  type: string;
  description: string;
}

export interface SchemaView {
  name: string | null; // ModelInput
  fields: SchemaField[];
  labels: string[]; // an image classifier's output: the labels it predicts
  details: [string, string][]; // e.g. the input's preprocessing, key → value
  other: string | null; // a schema of another shape: its JSON, shown as it is
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function schemaField(value: unknown): SchemaField | null {
  if (!isRecord(value) || typeof value.name !== "string") return null;
  return {
    name: value.name,
    type: value.type === undefined ? "" : text(value.type),
    description: value.description === undefined || value.description === null ? "" : text(value.description),
  };
}

/** A recorded schema as fields, labels and details; null when none was recorded. */
export function schemaView(schema: unknown): SchemaView | null {
  if (schema === null || schema === undefined) return null;
  const fields = isRecord(schema) && Array.isArray(schema.fields) ? schema.fields.map(schemaField) : null;
  if (!isRecord(schema) || fields === null || fields.some((field) => field === null)) {
    return { name: null, fields: [], labels: [], details: [], other: JSON.stringify(schema, null, 2) };
  }
  const labels = Array.isArray(schema.labels) ? schema.labels.map(text) : [];
  const preprocessing = isRecord(schema.preprocessing) ? schema.preprocessing : {};
  return {
    name: typeof schema.name === "string" ? schema.name : null,
    fields: fields.filter((field) => field !== null),
    labels,
    details: Object.entries(preprocessing).map(([key, value]) => [key, text(value)]),
    other: null,
  };
}

export interface UsageSnippets {
  cli: string;
  sdk: string;
}

export function usageSnippets(version: Pick<ModelVersion, "name" | "version">): UsageSnippets {
  const folder = `${version.name}-${String(version.version)}`;
  return {
    cli: `modelyard model download ${version.name}:${String(version.version)} --to ${folder}`,
    sdk: [
      "from modelyard import Model, Workspace",
      "",
      "ws = Workspace.from_config()",
      `model = Model(ws, ${JSON.stringify(version.name)}, version=${String(version.version)})`,
      `model.download(${JSON.stringify(folder)})`,
    ].join("\n"),
  };
}

export function shortSha(sha256: string): string {
  return sha256.slice(0, 12);
}
