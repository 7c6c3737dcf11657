// What a sweep's or an AutoML run's page shows of its children: the leaderboard and a parallel
// coordinates chart of the trials' hyperparameters against the primary metric (the compare
// page's chart). A sweep's board is the `leaderboard.json` its driver rewrites on each pass; an
// AutoML run's is read from its child runs (and its final leaderboard, once written). While the
// parent runs, both are read again every few seconds.
import { queryRuns } from "../api/endpoints";
import type { RunDetails } from "../api/types";
import { ParallelCoordinates } from "../compare/ParallelCoordinates";
import "../compare/compare.css";
import { ErrorMessage, Loading } from "../components/Feedback";
import { useInterval } from "../hooks/useInterval";
import { useResource } from "../hooks/useResource";
import { Leaderboard } from "./Leaderboard";
import {
  AUTOML_LEADERBOARD_PATH,
  automlBoard,
  automlMetric,
  type Board,
  IMAGE_TRIAL_METRIC,
  imageAutomlBoard,
  type ParentKind,
  parentKind,
  parseSweepLeaderboard,
  SWEEP_LEADERBOARD_PATH,
} from "./leaderboard";
import { listArtifacts, readArtifactJson } from "./runFiles";

const BOARD_INTERVAL_MS = 5000;
const BOARD_BYTES_MAX = 8 * 1024 * 1024;
const CHILDREN_MAX = 1000;
const CHART_TITLE: Record<ParentKind, string> = {
  sweep: "Trials: hyperparameters",
  automl: "Model families and their trials",
  "automl-images": "Candidates: backbone, learning rate and epochs",
};

export function ParentRunBoard({ run, live }: { run: RunDetails; live: boolean }) {
  const kind = parentKind(run);
  if (kind === null) return null;
  return <BoardOf key={run.id} run={run} kind={kind} live={live} />;
}

function BoardOf({ run, kind, live }: { run: RunDetails; kind: ParentKind; live: boolean }) {
  const board = useResource((signal) => readBoard(run, kind, signal), `${run.id}:${kind}`);
  useInterval(board.reload, BOARD_INTERVAL_MS, live);
  const title = kind === "sweep" ? "Sweep" : "AutoML";
  return (
    <section className="panel" id="parent-board" aria-labelledby="parent-board-heading">
      <h2 id="parent-board-heading">{title} leaderboard</h2>
      {board.error && <ErrorMessage error={board.error} onRetry={board.reload} />}
      {board.data === undefined ? (
        !board.error && <Loading what="the leaderboard" />
      ) : board.data === null ? (
        <p className="empty">No leaderboard yet: it is written once the first trial is queued.</p>
      ) : (
        <BoardView board={board.data} />
      )}
    </section>
  );
}

function BoardView({ board }: { board: Board }) {
  const ranked = board.rows.filter((row) => row.ranked).length;
  return (
    <>
      {board.totalTrials !== null && (
        <p className="empty" id="board-progress">
          {String(board.rows.length)} of {String(board.totalTrials)} trials, {String(ranked)} ranked by{" "}
          {board.metric}.
        </p>
      )}
      <Leaderboard board={board} />
      {board.rows.length > 0 && (
        <div id="trials-chart">
          <h3>
            {CHART_TITLE[board.kind]} against{" "}
            {board.metric}
          </h3>
          <ParallelCoordinates
            runs={board.rows.map((row) => ({
              id: row.key,
              label: row.label,
              params: row.params,
              metrics: row.value === null ? {} : { [board.metric]: row.value },
            }))}
            metrics={[board.metric]}
            metric={board.metric}
            onMetric={() => undefined}
          />
        </div>
      )}
    </>
  );
}

/** The board, or null where a sweep has written none yet. */
async function readBoard(run: RunDetails, kind: ParentKind, signal: AbortSignal): Promise<Board | null> {
  if (kind === "sweep") {
    const data = await readOptional(run.id, SWEEP_LEADERBOARD_PATH, signal);
    if (data === null) return null;
    const parsed = parseSweepLeaderboard(data);
    if (!parsed.ok) throw new Error(`${SWEEP_LEADERBOARD_PATH} is not a sweep's leaderboard: ${parsed.reason}`);
    return parsed.value;
  }
  if (kind === "automl-images") {
    const children = await queryRuns(childrenQuery(run.id, `metric:${IMAGE_TRIAL_METRIC}`), signal);
    return imageAutomlBoard(run, children.runs);
  }
  const metric = automlMetric(run);
  const [children, final] = await Promise.all([
    queryRuns(childrenQuery(run.id, metric ? `metric:best_${metric}` : "created"), signal),
    readOptional(run.id, AUTOML_LEADERBOARD_PATH, signal),
  ]);
  return automlBoard(run, children.runs, final);
}

function childrenQuery(parent: string, sort: string): Parameters<typeof queryRuns>[0] {
  return {
    experiment: null,
    statuses: [],
    tags: [],
    metrics: [],
    sort,
    descending: true,
    offset: 0,
    limit: CHILDREN_MAX,
    parent,
  };
}

/** The artifact's JSON, or null when the run has no such file (yet): looked up in the listing
 * first, so a missing file is no failed request. */
async function readOptional(runId: string, path: string, signal: AbortSignal): Promise<unknown> {
  const entries = await listArtifacts(runId, signal);
  if (!entries.some((entry) => entry.path === path)) return null;
  return readArtifactJson(runId, path, BOARD_BYTES_MAX, signal);
}
