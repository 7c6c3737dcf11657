// One online endpoint: where to call it, its traffic split, its deployments (the model version
// each serves, their states and what runs), and below, as Azure's studio has them, a test box,
// its keys (shown only when asked) and its logs. The open tab is in the URL (`?tab=`). Read
// again every few seconds: a deployment under way settles, a restarted replica shows up.
import { Link, useParams, useSearchParams } from "react-router";
import { getEndpoint } from "../api/onlineEndpoints";
import type { Endpoint } from "../api/types";
import { CopyButton } from "../components/CopyButton";
import { type Fact, Facts } from "../components/Facts";
import { ErrorMessage, Loading } from "../components/Feedback";
import { PageTitle } from "../components/Layout";
import { TabList, TabPanel, useOpenedTabs } from "../components/Tabs";
import { HealthBadge } from "../endpoints/badges";
import { DeploymentsTable } from "../endpoints/DeploymentsTable";
import { KeysPanel } from "../endpoints/KeysPanel";
import { LogsPanel } from "../endpoints/LogsPanel";
import { frontHealth } from "../endpoints/shaping";
import { TestBox } from "../endpoints/TestBox";
import { TrafficPanel } from "../endpoints/TrafficPanel";
import { formatTime } from "../format";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import "../endpoints/endpoints.css";

const REFRESH_MS = 5000;
type Tab = "test" | "keys" | "logs";
const TABS: [Tab, string][] = [
  ["test", "Test"],
  ["keys", "Keys"],
  ["logs", "Logs"],
];
const TAB_PARAM = "tab";

export default function EndpointPage() {
  const { name = "" } = useParams();
  const loaded = useResource((signal) => getEndpoint(name, signal), name);
  useInterval(loaded.reload, REFRESH_MS);
  if (loaded.data === undefined) {
    return loaded.error ? (
      <ErrorMessage error={loaded.error} onRetry={loaded.reload} />
    ) : (
      <Loading what="the endpoint" />
    );
  }
  const endpoint = loaded.data;
  return (
    <>
      <p className="breadcrumbs">
        <Link to="/endpoints">Endpoints</Link>
      </p>
      <div className="title-row">
        <PageTitle>{`Endpoint ${endpoint.name}`}</PageTitle>
        <HealthBadge health={frontHealth(endpoint)} />
      </div>
      {loaded.error && <ErrorMessage error={loaded.error} onRetry={loaded.reload} />}
      <EndpointFacts endpoint={endpoint} />
      <TrafficPanel endpoint={endpoint} />
      <DeploymentsTable endpoint={endpoint} />
      <EndpointTabs endpoint={endpoint} />
    </>
  );
}

function EndpointFacts({ endpoint }: { endpoint: Endpoint }) {
  const facts: Fact[] = [
    [
      "Scoring URI",
      <span className="uri-row" key="scoring">
        <code className="uri" id="scoring-uri">
          {endpoint.scoring_uri}
        </code>
        <CopyButton text={endpoint.scoring_uri} label="Copy" what="the scoring URI" copied="Copied" />
      </span>,
    ],
    [
      "Swagger URI",
      <a href={endpoint.swagger_uri} id="swagger-uri" key="swagger" target="_blank" rel="noreferrer">
        {endpoint.swagger_uri}
      </a>,
    ],
    ["Authentication", `${endpoint.auth_mode} (Authorization: Bearer <key>)`],
    ["Created", formatTime(endpoint.created_at)],
  ];
  return (
    <section className="panel" aria-labelledby="endpoint-facts-title" id="endpoint-facts">
      <h2 id="endpoint-facts-title" className="visually-hidden">
        Where to call it
      </h2>
      {endpoint.description && <p>{endpoint.description}</p>}
      <Facts facts={facts} className="endpoint-facts" />
    </section>
  );
}

function EndpointTabs({ endpoint }: { endpoint: Endpoint }) {
  const [search, setSearch] = useSearchParams();
  const current: Tab = TABS.find(([name]) => name === search.get(TAB_PARAM))?.[0] ?? "test";
  const opened = useOpenedTabs(current);
  const choose = (name: Tab) => {
    setSearch({ [TAB_PARAM]: name }, { replace: true, preventScrollReset: true });
  };
  return (
    <section className="endpoint-tools" aria-label="Test, keys and logs">
      <TabList label="Endpoint tools" tabs={TABS} current={current} onChoose={choose} />
      {opened.has("test") && (
        <TabPanel name="test" shown={current === "test"}>
          <TestBox endpoint={endpoint} />
        </TabPanel>
      )}
      {opened.has("keys") && (
        <TabPanel name="keys" shown={current === "keys"}>
          <KeysPanel endpoint={endpoint.name} />
        </TabPanel>
      )}
      {opened.has("logs") && (
        <TabPanel name="logs" shown={current === "logs"}>
          <LogsPanel endpoint={endpoint} />
        </TabPanel>
      )}
    </section>
  );
}
