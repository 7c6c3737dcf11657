// What the routes the app reads answer: the response models the server declares in its OpenAPI
// document (server/schemas/), as openapi-typescript generated them into schema.d.ts.
import type { components } from "./schema";

type Schemas = components["schemas"];

export type RunStatus = Schemas["RunStatus"];

/** A float as strict JSON carries it: NaN and the infinities travel as strings. */
export type JsonFloat = number | "NaN" | "Infinity" | "-Infinity";

export type Experiment = Schemas["Experiment"];
export type RunSource = Schemas["RunSource"];
export type Run = Schemas["Run"];
export type RunRow = Schemas["QueriedRun"];
export type RunPage = Schemas["RunPage"];
export type RunDetails = Schemas["RunDetails"];
export type MetricSeries = Schemas["MetricSeries"];
export type MetricSeriesRead = Schemas["MetricSeriesRead"];
export type Compute = Schemas["Compute"];
export type ComputeDetails = Schemas["ComputeDetails"];
export type ComputeSize = Schemas["ComputeSize"];
export type RegisteredModel = Schemas["RegisteredModel"];
export type ModelVersion = Schemas["ModelVersion"];
export type ModelFile = Schemas["ModelFile"];
export type ModelAlias = Schemas["ModelAlias"];
export type Endpoint = Schemas["EndpointDetails"];
export type Deployment = Schemas["Deployment"];
export type DeploymentState = Schemas["DeploymentState"];
export type EndpointKeys = Schemas["Keys"];
export type ModelOutput = Schemas["ModelOutput"];
export type DataAsset = Schemas["DataAsset"];
export type DataVersion = Schemas["DataVersion"];
export type DataManifestEntry = Schemas["ManifestEntry"];
export type DataLineage = Schemas["DataLineage"];
export type RunInput = Schemas["RunInput"];
