// The run page's lower half, as tabs: the log, the artifacts, and for an image-classification
// run its evaluation and its data guardrails (an AutoML-for-tables run's too, and its feature
// importance). The tab is in the URL (?panel=evaluation), as is
// the open artifact (?artifact=…, which opens the Artifacts tab). A tab is mounted when first
// opened and then kept, so the live log goes on while another tab is shown.
import { useEffect, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { ErrorMessage, Loading } from "../components/Feedback";
import { TabList, TabPanel, useOpenedTabs } from "../components/Tabs";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import { ARTIFACT_PARAM, ArtifactsPanel } from "./ArtifactsPanel";
import { EvaluationPanel } from "./EvaluationPanel";
import { evaluationFolder } from "./evaluation";
import { GUARDRAILS_PATH } from "./guardrails";
import { GuardrailsPanel } from "./GuardrailsReport";
import { FeatureImportancePanel } from "./FeatureImportance";
import { IMPORTANCE_PATH } from "./importance";
import { LogPanel, type LogFile } from "./LogPanel";
import type { OpenEventSource } from "./useLogFollower";
import { type ArtifactEntry, listArtifacts } from "./runFiles";
import "./runPanels.css";

export const PANEL_PARAM = "panel";
const LISTING_INTERVAL_MS = 10_000; // while the run goes on: new artifacts show up
const LOGS_FOLDER = "logs/";

type PanelName = "logs" | "artifacts" | "evaluation" | "guardrails" | "importance";

interface Props {
  runId: string;
  live: boolean;
  openEventSource?: OpenEventSource;
}

export function RunPanels(props: Props) {
  return <RunPanelsOf key={props.runId} {...props} />; // another run: everything anew
}

function RunPanelsOf({ runId, live, openEventSource }: Props) {
  const listing = useResource((signal) => listArtifacts(runId, signal), runId);
  const { reload } = listing;
  const wasLive = useRef(live);
  useEffect(() => {
    // A job's outputs are uploaded as it ends: list them once more then.
    if (wasLive.current && !live) reload();
    wasLive.current = live;
  }, [live, reload]);
  useInterval(reload, LISTING_INTERVAL_MS, live);

  if (listing.data === undefined) {
    return listing.error ? (
      <ErrorMessage error={listing.error} onRetry={reload} />
    ) : (
      <Loading what="the run's files" />
    );
  }
  return (
    <Panels runId={runId} live={live} entries={listing.data} openEventSource={openEventSource} />
  );
}

function Panels({
  runId,
  live,
  entries,
  openEventSource,
}: {
  runId: string;
  live: boolean;
  entries: ArtifactEntry[];
  openEventSource: OpenEventSource | undefined;
}) {
  const [search, setSearch] = useSearchParams();
  const evaluation = evaluationFolder(entries);
  const hasGuardrails = entries.some((entry) => entry.path === GUARDRAILS_PATH);
  const hasImportance = entries.some((entry) => entry.path === IMPORTANCE_PATH);
  const tabs: [PanelName, string][] = [
    ["logs", "Logs"],
    ["artifacts", `Artifacts (${entries.length})`],
    ...(evaluation !== null ? [["evaluation", "Evaluation"] as [PanelName, string]] : []),
    ...(hasGuardrails ? [["guardrails", "Data guardrails"] as [PanelName, string]] : []),
    ...(hasImportance ? [["importance", "Feature importance"] as [PanelName, string]] : []),
  ];
  const current = chosenPanel(search, tabs.map(([name]) => name));
  const opened = useOpenedTabs(current);
  // The first log's size: the panel starts at its last 64 KiB. Only the first listing's
  // sizes count (a log that grew since is read on from there).
  const [logs] = useState<LogFile[]>(() => entries.filter((entry) => entry.path.startsWith(LOGS_FOLDER)));

  const choose = (name: PanelName) => {
    const next = new URLSearchParams(search);
    next.set(PANEL_PARAM, name);
    if (name !== "artifacts") next.delete(ARTIFACT_PARAM);
    setSearch(next, { preventScrollReset: true });
  };

  const panel = (name: PanelName) => {
    switch (name) {
      case "logs":
        return <LogPanel runId={runId} live={live} logs={logs} openEventSource={openEventSource} />;
      case "artifacts":
        return <ArtifactsPanel runId={runId} entries={entries} />;
      case "evaluation":
        return evaluation === null ? null : (
          <EvaluationPanel runId={runId} folder={evaluation} entries={entries} />
        );
      case "guardrails":
        return <GuardrailsPanel runId={runId} />;
      case "importance":
        return <FeatureImportancePanel runId={runId} />;
    }
  };

  return (
    <section className="run-panels" aria-label="Logs, artifacts and reports">
      <TabList label="Run panels" tabs={tabs} current={current} onChoose={choose} />
      {tabs.map(([name]) =>
        opened.has(name) ? (
          <TabPanel key={name} name={name} shown={name === current}>
            {panel(name)}
          </TabPanel>
        ) : null,
      )}
    </section>
  );
}

function chosenPanel(search: URLSearchParams, available: PanelName[]): PanelName {
  const asked = search.get(PANEL_PARAM);
  const named = available.find((name) => name === asked);
  if (named) return named;
  return search.has(ARTIFACT_PARAM) ? "artifacts" : "logs";
}
