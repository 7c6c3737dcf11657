"""AutoML for tables: Modelyard's job beside FLAML's own `AutoML.fit` (and AutoGluon where it
installs), at the same time budget, on the data sets that ship with scikit-learn.

    .venv/bin/python benchmarks/automl.py [--datasets iris,wine,...] [--budgets 60,300]
        [--seeds 3] [--skip-flaml] [--skip-autogluon] [--skip-resume]

For every data set, budget and seed: a stratified 80/20 split (the seed picks it), then

- **Modelyard**: the path a user takes. The training rows as a CSV, `AutoMLConfig` (default
  primary metric: accuracy, or R² for regression; validation chosen by the job, Azure's rule)
  submitted with `services.automl.submit_automl` to the local compute of a fresh workspace in a
  temporary folder, waited for; the test rows scored with the run's exported
  `outputs/bestModel.onnx` in ONNX Runtime (the model a user registers and serves).
- **FLAML**: `flaml.AutoML().fit` in this process on the same training rows, with the same time
  budget, estimators (Modelyard's six families), validation (the folds Modelyard's job chooses
  for those rows), metric, search seed (0, as the job's) and CPUs; the test rows scored with
  `automl.predict` (FLAML's best model, refitted on every training row).
- **AutoGluon**, where `autogluon.tabular` installs into a virtualenv of its own: its
  `TabularPredictor.fit(time_limit=budget)` with the same metric, in that virtualenv's Python
  (`_autogluon_side.py`); its own validation (it can't take ours) and presets (default).

Reported: the test score's mean ± std over the seeds per data set and budget, Modelyard ÷ FLAML,
whether Modelyard ≥ FLAML within noise, and Modelyard's run beyond its budget (its wall time,
submit to completion, minus the budget, as % of the budget; target ≤ 5 %: the searches end
early enough for the steps after them), with the time beyond its searches and where the wall
time went. Then the resume-after-kill cost: a run of the
first data set at the first budget whose job process is SIGKILLed once its first family is
done, resumed as its next attempt, beside the uninterrupted run of the same data and seed.

`--side-by-side` runs Modelyard and FLAML at the same time, each pinned to a CPU of its own
(FLAML in a process of its own on CPU 0; this process, its job's processes and AutoGluon on CPU
1): half the wall time on a 2-CPU machine, and both sides see the same moments of its load.
`--first-seed K` starts the seeds at K.

A benchmark, not a test: nothing here is asserted, and the machine's noise shows in the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from modelyard.entities import Run
    from modelyard.services.workspaces import OpenWorkspace
    from modelyard.tabular.config import AutoMLConfig

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
AUTOGLUON_VENV = CACHE / "autogluon-venv"
AUTOGLUON_SIDE = HERE / "_autogluon_side.py"
# Its gradient-boosting families too (the bare package brings only scikit-learn's models);
# no torch or fastai: their neural networks are left out.
AUTOGLUON_REQUIREMENT = "autogluon.tabular[lightgbm,xgboost,catboost]"
LABEL = "target"
TEST_FRACTION = 0.2
SEARCH_SEED = 0  # the job's FLAML seed (tabular/search.py); the bench's seeds pick the split
BOOTSTRAP_SAMPLES = 500
TARGET_OVERHEAD_PERCENT = 5.0
JOB_MODULE = "modelyard.builtin_jobs.automl_tables"
# Time beyond the budget a run may take before the benchmark gives up on it.
GRACE_S = 600.0

# name → (loader, task); california housing downloads on first use: offline only if cached.
CLASSIFICATION = "classification"
REGRESSION = "regression"
DATASETS = {
    "iris": ("load_iris", CLASSIFICATION),
    "wine": ("load_wine", CLASSIFICATION),
    "breast_cancer": ("load_breast_cancer", CLASSIFICATION),
    "digits": ("load_digits", CLASSIFICATION),
    "diabetes": ("load_diabetes", REGRESSION),
    "california_housing": ("fetch_california_housing", REGRESSION),
}
METRIC_NAMES = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}
AUTOGLUON_METRIC = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}


# Arguments --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="AutoML for tables: Modelyard beside FLAML (and AutoGluon) per budget."
    )
    parser.add_argument(
        "--datasets",
        default=",".join(DATASETS),
        help=f"comma-separated, from {', '.join(DATASETS)} (default: all)",
    )
    parser.add_argument("--budgets", default="60,300", help="seconds, comma-separated")
    parser.add_argument("--seeds", type=int, default=3, help="splits per data set and budget")
    parser.add_argument("--skip-flaml", action="store_true")
    parser.add_argument("--skip-autogluon", action="store_true")
    parser.add_argument("--skip-resume", action="store_true", help="no resume-after-kill run")
    parser.add_argument(
        "--autogluon-venv",
        type=Path,
        default=AUTOGLUON_VENV,
        help=f"AutoGluon's virtualenv, created with `pip install {AUTOGLUON_REQUIREMENT}` if"
        " missing",
    )
    parser.add_argument("--install-timeout", type=float, default=600.0)
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="Modelyard and FLAML at the same time, each on a CPU of its own (half the wall time)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="the first split's seed")
    # Internal: the FLAML side of --side-by-side, in a process of its own.
    parser.add_argument("--flaml-side", nargs=4, metavar=("DATASET", "SEED", "BUDGET", "DIR"))
    args = parser.parse_args(argv)
    if args.flaml_side:
        return args
    args.datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown:
        parser.error(f"unknown data set {unknown[0]!r}: choose from {', '.join(DATASETS)}")
    try:
        args.budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    except ValueError:
        parser.error(f"--budgets {args.budgets!r} is not a list of seconds: give e.g. 60,300")
    if not args.budgets or min(args.budgets) < 6 or args.seeds < 1:
        parser.error("give budgets of 6 s or more (one per family) and --seeds 1 or more")
    return args


def note(line: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {line}", file=sys.stderr, flush=True)


# Data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    dataset: str
    task: str
    seed: int
    train: pd.DataFrame  # features and LABEL
    test: pd.DataFrame

    @property
    def test_label(self) -> np.ndarray:
        return np.asarray(self.test[LABEL].to_numpy())


def load_frame(name: str) -> pd.DataFrame:
    """The data set with its label as LABEL; OSError when it is not on this machine."""
    from sklearn import datasets

    loader_name, _ = DATASETS[name]
    loader = getattr(datasets, loader_name)
    kwargs = {"download_if_missing": False} if loader_name.startswith("fetch_") else {}
    frame: pd.DataFrame = loader(as_frame=True, **kwargs).frame
    return frame.rename(columns={frame.columns[-1]: LABEL})


def split(name: str, frame: pd.DataFrame, seed: int) -> Split:
    from sklearn.model_selection import train_test_split

    task = DATASETS[name][1]
    train, test = train_test_split(
        frame,
        test_size=TEST_FRACTION,
        random_state=seed,
        stratify=frame[LABEL] if task == CLASSIFICATION else None,
    )
    return Split(name, task, seed, train.reset_index(drop=True), test.reset_index(drop=True))


def score(task: str, truth: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    if task == CLASSIFICATION:
        return float(accuracy_score(truth.astype(np.int64), predicted.astype(np.int64)))
    return float(r2_score(truth.astype(float), predicted.astype(float)))


def bootstrap_std(task: str, truth: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> float:
    """The std of (ours − theirs) over test rows resampled with replacement: how much of a
    difference one test set of this size can show by chance."""
    generator = np.random.default_rng(0)
    rows = len(truth)
    differences = []
    for _ in range(BOOTSTRAP_SAMPLES):
        pick = generator.integers(0, rows, rows)
        differences.append(
            score(task, truth[pick], ours[pick]) - score(task, truth[pick], theirs[pick])
        )
    return float(np.std(differences))


# Modelyard --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    system: str
    score: float | None = None
    predictions: np.ndarray | None = None
    wall_s: float = 0.0
    detail: str = ""  # best model, trials
    error: str | None = None
    search_s: float = 0.0  # Modelyard: Σ the families' searches
    phases: list[tuple[str, float]] = field(default_factory=list)


def automl_config(data: Split, table: Path, budget: float) -> AutoMLConfig:
    from modelyard.tabular.config import AutoMLConfig

    return AutoMLConfig(data.task, str(table), LABEL, time_budget_s=budget)


def run_modelyard(ws: OpenWorkspace, data: Split, table: Path, budget: float) -> Outcome:
    from modelyard.services import jobs
    from modelyard.services.automl import submit_automl

    submitted = time.time()
    started = time.perf_counter()
    run = submit_automl(ws, data.dataset, automl_config(data, table, budget))
    final = jobs.wait_for_completion(ws, run.id, timeout_s=budget + GRACE_S)
    wall = time.perf_counter() - started
    return modelyard_outcome(ws, final, data, submitted, wall)


def modelyard_outcome(
    ws: OpenWorkspace, final: Run, data: Split, submitted: float, wall: float
) -> Outcome:
    from modelyard.entities import RunStatus

    outcome = Outcome("Modelyard", wall_s=wall)
    children = ws.store.list_runs(parent_id=final.id)
    outcome.search_s = sum(
        epoch(c.ended_at) - epoch(c.started_at) for c in children if c.started_at and c.ended_at
    )
    outcome.phases = job_phases(ws, final, children, submitted, submitted + wall)
    if final.status is not RunStatus.COMPLETED:
        outcome.error = f"run {final.status.value}: {final.error}"
        return outcome
    board = json.loads(read_artifact(ws, final.id, "outputs/leaderboard.json"))
    trials = sum(int(model.get("trials", 0)) for model in board["models"])
    outcome.detail = f"{board['exported']}, {trials} trials ({family_trials(ws, children)})"
    outcome.predictions = onnx_predictions(ws, final.id, data)
    outcome.score = score(data.task, data.test_label, outcome.predictions)
    return outcome


def family_trials(ws: OpenWorkspace, children: list[Run]) -> str:
    """Each family's trials and seconds: "LightGBM 2 in 12.8 s, …" (a failed attempt's
    child, cut short by a kill, left out)."""
    parts = []
    for child in sorted(children, key=lambda c: c.created_at):
        if child.started_at is None or child.ended_at is None or child.status.value != "Completed":
            continue
        trials = ws.store.get_run_data(child.id).latest_metrics.get("trials", 0)
        seconds = epoch(child.ended_at) - epoch(child.started_at)
        parts.append(f"{child.display_name} {trials:.0f} in {seconds:.1f} s")
    return ", ".join(parts)


def read_artifact(ws: OpenWorkspace, run_id: str, path: str) -> bytes:
    with ws.artifacts.open_read(run_id, path) as handle:
        return bytes(handle.read())


def onnx_predictions(ws: OpenWorkspace, run_id: str, data: Split) -> np.ndarray:
    """The test rows through the run's bestModel.onnx, as a user's scoring would see them."""
    import onnxruntime

    from modelyard.tabular.export import onnx_feeds
    from modelyard.tabular.featurize import FeatureColumn, model_frame

    schema = json.loads(read_artifact(ws, run_id, "outputs/bestModelSchema.json"))
    columns = [FeatureColumn(**column) for column in schema["columns"]]
    frame = model_frame(data.test.drop(columns=[LABEL]), columns)
    session = onnxruntime.InferenceSession(
        read_artifact(ws, run_id, "outputs/bestModel.onnx"),
        providers=["CPUExecutionProvider"],
    )
    names = [output.name for output in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, onnx_feeds(frame, columns)), strict=True))
    if data.task == CLASSIFICATION:
        classes = schema["classes"]  # the label's values as text, the ONNX label an index
        indices = np.asarray(outputs["label"]).reshape(-1)
        return np.asarray([float(classes[int(i)]) for i in indices])
    return np.asarray(outputs["variable"], dtype=float).reshape(-1)


def job_phases(
    ws: OpenWorkspace, run: Run, children: list[Run], submitted: float, done: float
) -> list[tuple[str, float]]:
    """Where the run's wall time went, from its and its children's timestamps and the times
    its metrics were logged at."""
    last = {metric.name: metric.timestamp for metric in ws.store.get_metric_history(run.id)}
    timed = sorted((c for c in children if c.started_at and c.ended_at), key=started_key)
    if run.started_at is None or not timed:
        return []
    first_start = epoch(timed[0].started_at)
    last_end = max(epoch(c.ended_at) for c in timed)
    searches = sum(epoch(c.ended_at) - epoch(c.started_at) for c in timed)
    phases = [
        ("submit, queue, process start", epoch(run.started_at) - submitted),
        ("imports, guardrails, featurization", first_start - epoch(run.started_at)),
        ("families' searches (Σ)", searches),
        ("between searches (child runs, logging)", last_end - first_start - searches),
    ]
    marks = [
        ("leaderboard: ensemble, selection", last.get("trials")),
        ("ONNX export and parity", last.get("onnx_max_abs_diff")),
        ("permutation importance", last.get("feature_importance")),
        ("starter code, run once", last.get("starter_max_abs_diff")),
        ("publish, exit", epoch(run.ended_at) if run.ended_at else None),
        ("noticed by wait_for_completion", done),
    ]
    previous = last_end
    for name, moment in marks:
        if moment:
            phases.append((name, max(0.0, moment - previous)))
            previous = max(previous, moment)
    return phases


def started_key(run: Run) -> float:
    return epoch(run.started_at)


def epoch(moment: datetime | None) -> float:
    assert moment is not None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


# FLAML ------------------------------------------------------------------------------------------


def run_flaml(data: Split, budget: float, log_file: Path) -> Outcome:
    """FLAML alone with what the job gives it: its families, folds, metric, seed and CPUs."""
    from flaml import AutoML

    from modelyard.tabular.folds import splitter
    from modelyard.tabular.search import read_trials
    from modelyard.tabular.validation import choose_validation

    config = automl_config(data, Path("unused.csv"), budget)
    label = data.train[LABEL].to_numpy()
    features = data.train.drop(columns=[LABEL]).to_numpy(dtype=np.float32)
    smallest = int(data.train[LABEL].value_counts().min()) if data.task == CLASSIFICATION else None
    validation = choose_validation(len(label), "auto", None, smallest)
    settings: dict[str, Any] = {
        "task": data.task,
        "estimator_list": list(config.families.values()),
        "time_budget": budget,
        "metric": config.metric.flaml_metric_for(len(np.unique(label))),
        "seed": SEARCH_SEED,
        # A line per trial, as the job's (tabular/search.py).
        "log_file_name": str(log_file),
        "log_type": "all",
        "verbose": 0,
        "n_jobs": len(os.sched_getaffinity(0)),
    }
    if validation.method == "cv":
        # The job's own splitter (tabular/folds.py), as the job hands it to FLAML: the same
        # rows in the same folds on both sides, not FLAML's own shuffle of k folds.
        settings |= {
            "eval_method": "cv",
            "n_splits": validation.folds,
            "split_type": splitter(validation, data.task),
        }
    else:
        settings |= {"eval_method": "holdout", "split_ratio": validation.holdout_fraction}
    automl = AutoML()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        automl.fit(features, label, **settings)
    wall = time.perf_counter() - started
    test = data.test.drop(columns=[LABEL]).to_numpy(dtype=np.float32)
    predictions = np.asarray(automl.predict(test), dtype=float)
    return Outcome(
        "FLAML",
        score(data.task, data.test_label, predictions),
        predictions,
        wall,
        f"{automl.best_estimator}, {len(read_trials(log_file))} trials, {validation.describe()}",
    )


# Side by side: FLAML in a process of its own on CPU 0 while Modelyard's job runs on CPU 1 (the
# benchmark pins itself there first, and the job's processes inherit it). Both sides get the
# same CPU and the same moments of the machine's load.
SIDE_CPU = {"FLAML": 0, "Modelyard": 1}


def pin_modelyard_side() -> None:
    """Before any thread or workspace exists, so every thread and job process inherits it."""
    os.sched_setaffinity(0, {SIDE_CPU["Modelyard"]})


def start_flaml_side(data: Split, budget: float, folder: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(Path(__file__).resolve()), "--flaml-side"]
    command += [data.dataset, str(data.seed), f"{budget:g}", str(folder)]
    cpu = {SIDE_CPU["FLAML"]}
    return subprocess.Popen(command, preexec_fn=lambda: os.sched_setaffinity(0, cpu))


def finish_flaml_side(process: subprocess.Popen[bytes], data: Split, folder: Path) -> Outcome:
    code = process.wait()
    answer = folder / "flaml.json"
    if code != 0 or not answer.exists():
        return Outcome("FLAML", error=f"the FLAML side exited {code}")
    fields = json.loads(answer.read_text())
    fields["predictions"] = np.asarray(fields["predictions"], dtype=float)
    return Outcome(**fields)


def flaml_side(dataset: str, seed: int, budget: float, folder: Path) -> int:
    """The FLAML side's process: the same split, FLAML's search, its outcome as JSON."""
    data = split(dataset, load_frame(dataset), seed)
    outcome = run_flaml(data, budget, folder / "flaml.log")
    fields = {
        "system": outcome.system,
        "score": outcome.score,
        "predictions": np.asarray(outcome.predictions).tolist(),
        "wall_s": outcome.wall_s,
        "detail": outcome.detail,
    }
    partial = folder / "flaml.json.partial"
    partial.write_text(json.dumps(fields))
    partial.rename(folder / "flaml.json")
    return 0


# AutoGluon --------------------------------------------------------------------------------------


def autogluon_python(args: argparse.Namespace) -> tuple[Path | None, str]:
    """AutoGluon's interpreter, installing it on first use; None and why when it can't be."""
    python = args.autogluon_venv / "bin" / "python"
    if python.exists() and _imports_autogluon(python):
        return python, ""
    note(f"installing {AUTOGLUON_REQUIREMENT} into {args.autogluon_venv} (once)")
    log = CACHE / "autogluon-install.log"
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("w") as out:
            subprocess.run(
                [sys.executable, "-m", "venv", str(args.autogluon_venv)],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", AUTOGLUON_REQUIREMENT],
                check=True,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=args.install_timeout,
            )
    except (subprocess.SubprocessError, OSError) as error:
        tail = " | ".join(log.read_text().strip().splitlines()[-3:]) if log.exists() else ""
        return None, f"autogluon.tabular did not install ({type(error).__name__}): {tail}"
    if not _imports_autogluon(python):
        return None, f"autogluon.tabular installed but does not import: see {log}"
    return python, ""


def _imports_autogluon(python: Path) -> bool:
    probe = [str(python), "-c", "import autogluon.tabular"]
    return subprocess.run(probe, capture_output=True, timeout=300).returncode == 0


def run_autogluon(python: Path, data: Split, train_csv: Path, budget: float) -> Outcome:
    folder = train_csv.parent
    test_csv = folder / "test.csv"
    data.test.to_csv(test_csv, index=False)
    problem = "multiclass" if data.task == CLASSIFICATION else "regression"
    if data.task == CLASSIFICATION and data.train[LABEL].nunique() == 2:
        problem = "binary"
    command = [
        str(python),
        str(AUTOGLUON_SIDE),
        str(train_csv),
        str(test_csv),
        LABEL,
        problem,
        AUTOGLUON_METRIC[data.task],
        str(budget),
        str(folder / "autogluon-models"),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=budget + GRACE_S)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        tail = " | ".join(result.stderr.strip().splitlines()[-3:])
        return Outcome("AutoGluon", wall_s=wall, error=f"exit {result.returncode}: {tail}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    predictions = np.asarray(answer["predictions"], dtype=float)
    return Outcome(
        "AutoGluon",
        score(data.task, data.test_label, predictions),
        predictions,
        wall,
        f"{answer['best_model']}, {answer['models']} models",
    )


# Resume after kill ------------------------------------------------------------------------------


@dataclass
class ResumeResult:
    dataset: str
    budget: float
    uninterrupted_s: float
    killed_after_s: float = 0.0
    total_s: float = 0.0
    score: float | None = None
    uninterrupted_score: float | None = None
    failed_after_s: float = 0.0  # the kill seen: the run recorded Failed
    attempts: int = 0
    first_family: str = ""
    searched_once: bool = False  # the family done before the kill was not searched again
    error: str | None = None


def measure_resume(
    ws: OpenWorkspace, data: Split, table: Path, budget: float, uninterrupted: Outcome
) -> ResumeResult:
    """Submit, SIGKILL the job's process once the first family's child run has completed,
    resume the run as its next attempt, wait for it."""
    from modelyard.entities import RunStatus
    from modelyard.services import jobs
    from modelyard.services.automl import submit_automl
    from modelyard.services.resume import resume_job

    result = ResumeResult(data.dataset, budget, uninterrupted.wall_s)
    result.uninterrupted_score = uninterrupted.score
    started = time.perf_counter()
    run = submit_automl(ws, f"{data.dataset}-resume", automl_config(data, table, budget))
    deadline = time.monotonic() + budget + GRACE_S
    found = None
    while found is None:
        if time.monotonic() > deadline or ws.store.get_run(run.id).status.is_terminal:
            result.error = "the run ended before its first family completed"
            return result
        found = _job_process_after_first_family(ws, run.id)
        if found is None:
            time.sleep(0.1)
    job, result.first_family = found
    os.kill(job, signal.SIGKILL)
    result.killed_after_s = time.perf_counter() - started
    note(f"resume: killed the job process {job} after {result.killed_after_s:.1f} s")
    failed = jobs.wait_for_completion(ws, run.id, timeout_s=GRACE_S)
    result.failed_after_s = time.perf_counter() - started
    if failed.status not in (RunStatus.FAILED, RunStatus.CANCELED):
        result.error = f"the killed run ended {failed.status.value}, not Failed"
        return result
    resume_job(ws, run.id)  # what `modelyard run resume RUN` does
    final = jobs.wait_for_completion(ws, run.id, timeout_s=budget + GRACE_S)
    result.total_s = time.perf_counter() - started
    result.attempts = final.attempt
    names = [str(c.display_name) for c in ws.store.list_runs(parent_id=run.id)]
    result.searched_once = names.count(result.first_family) == 1
    if final.status is not RunStatus.COMPLETED:
        result.error = f"the resumed run ended {final.status.value}: {final.error}"
        return result
    result.score = score(data.task, data.test_label, onnx_predictions(ws, run.id, data))
    return result


def _job_process_after_first_family(ws: OpenWorkspace, run_id: str) -> tuple[int, str] | None:
    """The job's process and the family it completed, once one is."""
    import psutil

    from modelyard.entities import RunStatus
    from modelyard.entities.process import ProcessHandle

    children = ws.store.list_runs(parent_id=run_id)
    done = [c.display_name for c in children if c.status is RunStatus.COMPLETED]
    if not done:
        return None
    run = ws.store.get_run(run_id)
    if run.handle is None:
        return None
    try:
        supervisor = psutil.Process(ProcessHandle.parse(run.handle).pid)
        for process in supervisor.children(recursive=True):
            if JOB_MODULE in " ".join(process.cmdline()):
                return int(process.pid), str(done[0])
    except psutil.Error:
        return None
    return None


# Measuring --------------------------------------------------------------------------------------


@dataclass
class Cell:
    """One data set at one budget, over the seeds."""

    dataset: str
    task: str
    budget: float
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    paired_noise: list[float] = field(default_factory=list)  # bootstrap std, per seed

    def add(self, outcome: Outcome) -> None:
        self.outcomes.setdefault(outcome.system, []).append(outcome)

    def scores(self, system: str) -> list[float]:
        return [o.score for o in self.outcomes.get(system, []) if o.score is not None]


@dataclass
class Results:
    cells: list[Cell] = field(default_factory=list)
    resume: ResumeResult | None = None
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def measure_all(args: argparse.Namespace, scratch: Path) -> Results:
    from modelyard.services.workspaces import create_workspace

    results = Results()
    frames = {}
    for name in args.datasets:
        try:
            frames[name] = load_frame(name)
        except OSError as error:
            results.skipped.append(
                f"{name}: not on this machine and downloads are off ({type(error).__name__}:"
                f" {error})"
            )
    python: Path | None = None
    if not args.skip_autogluon:
        python, why = autogluon_python(args)
        if python is None:
            results.failures.append(f"AutoGluon: {why}")
    ws = create_workspace("bench-ws", path=scratch / "ws")
    try:
        measure_cells(args, ws, frames, scratch, python, results)
    except KeyboardInterrupt:  # what was measured so far is still reported
        results.failures.append("interrupted (Ctrl-C): the table holds the runs finished")
    finally:
        ws.close()
    return results


def measure_cells(
    args: argparse.Namespace,
    ws: OpenWorkspace,
    frames: dict[str, pd.DataFrame],
    scratch: Path,
    python: Path | None,
    results: Results,
) -> None:
    """Seed by seed over every data set (a cut-short run has whole seeds); the resume check
    right after the first run, beside which it is measured."""
    for budget in args.budgets:
        cells = [Cell(name, DATASETS[name][1], budget) for name in frames]
        results.cells += cells
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for cell in cells:
                data = split(cell.dataset, frames[cell.dataset], seed)
                measure_seed(args, ws, cell, data, scratch, python)
                if results.resume is None and not args.skip_resume:
                    results.resume = resume_of(ws, cell, frames, scratch)


def measure_seed(
    args: argparse.Namespace,
    ws: OpenWorkspace,
    cell: Cell,
    data: Split,
    scratch: Path,
    python: Path | None,
) -> None:
    folder = scratch / f"{data.dataset}-{cell.budget:g}s-seed{data.seed}"
    folder.mkdir(parents=True)
    table = folder / f"{data.dataset}.csv"
    data.train.to_csv(table, index=False)
    label = f"{data.dataset}, {cell.budget:g} s, seed {data.seed}"
    flaml_side = None
    if args.side_by_side and not args.skip_flaml:
        flaml_side = start_flaml_side(data, cell.budget, folder)
    steps: list[tuple[str, Callable[[], Outcome]]] = [
        ("Modelyard", lambda: run_modelyard(ws, data, table, cell.budget))
    ]
    if flaml_side is not None:
        steps.append(("FLAML", lambda: finish_flaml_side(flaml_side, data, folder)))
    elif not args.skip_flaml:
        steps.append(("FLAML", lambda: run_flaml(data, cell.budget, folder / "flaml.log")))
    if python is not None:
        steps.append(("AutoGluon", lambda: run_autogluon(python, data, table, cell.budget)))
    for system, step in steps:
        note(f"{label}: {system}")
        try:
            outcome = step()
        except Exception as error:  # one system's failure is reported, the others still run
            outcome = Outcome(system, error=f"{type(error).__name__}: {error}"[:300])
        cell.add(outcome)
        shown = "—" if outcome.score is None else f"{outcome.score:.4f}"
        note(f"  {system}: {shown} in {outcome.wall_s:.1f} s ({outcome.error or outcome.detail})")
    ours, theirs = cell.outcomes["Modelyard"][-1], cell.outcomes.get("FLAML", [None])[-1]
    if ours.predictions is not None and theirs is not None and theirs.predictions is not None:
        cell.paired_noise.append(
            bootstrap_std(data.task, data.test_label, ours.predictions, theirs.predictions)
        )


def resume_of(
    ws: OpenWorkspace, cell: Cell, frames: dict[str, pd.DataFrame], scratch: Path
) -> ResumeResult:
    data = split(cell.dataset, frames[cell.dataset], 0)
    table = scratch / "resume" / f"{cell.dataset}.csv"
    table.parent.mkdir()
    data.train.to_csv(table, index=False)
    note(f"resume after kill: {cell.dataset}, {cell.budget:g} s, seed 0")
    uninterrupted = cell.outcomes["Modelyard"][0]
    try:
        return measure_resume(ws, data, table, cell.budget, uninterrupted)
    except Exception as error:  # reported; the scores still get measured
        failed = ResumeResult(cell.dataset, cell.budget, uninterrupted.wall_s)
        failed.error = f"{type(error).__name__}: {error}"[:300]
        return failed


# Report -----------------------------------------------------------------------------------------


def mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"


def verdict(cell: Cell) -> str:
    """Modelyard ≥ FLAML within noise: the mean difference is above minus the noise, the
    larger of the per-seed differences' std (2+ seeds) and the test set's paired bootstrap
    std (the chance difference one test set of this size shows)."""
    ours, theirs = cell.scores("Modelyard"), cell.scores("FLAML")
    if not ours or len(ours) != len(theirs):
        return ""
    differences = np.asarray(ours) - np.asarray(theirs)
    noise = float(np.mean(cell.paired_noise)) if cell.paired_noise else 0.0
    if len(differences) > 1:
        noise = max(noise, float(np.std(differences, ddof=1)))
    difference = float(np.mean(differences))
    met = difference >= -noise
    return f"{difference:+.4f} (noise {noise:.4f}): {'yes' if met else 'NO'}"


def print_scores(results: Results) -> None:
    systems = ["Modelyard", "FLAML", "AutoGluon"]
    present = [s for s in systems if any(s in c.outcomes for c in results.cells)]
    print("\nTest score (accuracy; R² for regression), mean ± std over seeds")
    header = f"{'data set':<20}{'budget':>7}{'seeds':>6}" + "".join(f"{s:>20}" for s in present)
    print(f"{header}{'Modelyard ÷ FLAML':>19}  Modelyard ≥ FLAML within noise")
    for cell in results.cells:
        row = f"{cell.dataset:<20}{cell.budget:>6g}s{len(cell.scores('Modelyard')):>6}"
        row += "".join(f"{mean_std(cell.scores(s)):>20}" for s in present)
        ours, theirs = cell.scores("Modelyard"), cell.scores("FLAML")
        ratio = f"{np.mean(ours) / np.mean(theirs):.3f}" if ours and theirs else "—"
        print(f"{row}{ratio:>19}  {verdict(cell)}")
    print("\nBest model per run")
    for cell in results.cells:
        for system in present:
            for outcome in cell.outcomes.get(system, []):
                what = outcome.error or outcome.detail
                print(f"  {cell.dataset:<20}{cell.budget:>6g}s {system:<10} {what}")


def print_overhead(results: Results) -> list[str]:
    verdicts = []
    print(
        "\nModelyard's run beyond its budget (wall − budget) and beyond its searches"
        " (wall − Σ families' searches), % of budget"
    )
    print(
        f"{'data set':<20}{'budget':>7}{'wall s':>9}{'wall÷budget':>13}{'beyond budget':>15}"
        f"{'searches s':>12}{'beyond searches':>17}"
    )
    for cell in results.cells:
        for outcome in cell.outcomes.get("Modelyard", []):
            if not outcome.search_s:
                continue
            beyond_budget = 100 * (outcome.wall_s - cell.budget) / cell.budget
            beyond_searches = 100 * (outcome.wall_s - outcome.search_s) / cell.budget
            print(
                f"{cell.dataset:<20}{cell.budget:>6g}s{outcome.wall_s:>9.1f}"
                f"{outcome.wall_s / cell.budget:>13.3f}{beyond_budget:>14.1f}%"
                f"{outcome.search_s:>12.1f}{beyond_searches:>16.1f}%"
            )
            verdicts.append(beyond_budget)
    runs = [o for c in results.cells for o in c.outcomes.get("Modelyard", []) if o.phases]
    if runs:
        print("\nWhere Modelyard's wall time went, seconds (mean over its runs)")
        names = [name for name, _ in runs[0].phases]
        for name in names:
            values = [dict(o.phases).get(name, 0.0) for o in runs]
            print(f"  {name:<42}{np.mean(values):>8.1f}")
    if not verdicts:
        return []
    worst = max(verdicts)
    met = "met" if worst <= TARGET_OVERHEAD_PERCENT else "NOT met"
    target = f"≤ {TARGET_OVERHEAD_PERCENT:g} % of the budget"
    return [f"Modelyard's run beyond its budget {target}: {met} (worst {worst:+.1f} %)"]


def print_resume(resume: ResumeResult) -> None:
    print(f"\nResume after kill ({resume.dataset}, {resume.budget:g} s, seed 0)")
    if resume.error:
        print(f"  not measured: {resume.error}")
        return
    extra = resume.total_s - resume.uninterrupted_s
    print(f"  uninterrupted run                  {resume.uninterrupted_s:8.1f} s")
    print(f"  SIGKILL once {resume.first_family:<22}{resume.killed_after_s:8.1f} s")
    print(f"  the run recorded Failed            {resume.failed_after_s:8.1f} s")
    once = "yes" if resume.searched_once else "NO"
    print(
        f"  killed + resumed, in all           {resume.total_s:8.1f} s  (attempts"
        f" {resume.attempts}, {resume.first_family} searched once: {once})"
    )
    share = 100 * extra / resume.budget
    print(f"  extra wall time                    {extra:8.1f} s  ({share:.0f} % of the budget)")
    if resume.score is not None and resume.uninterrupted_score is not None:
        scores = f"resumed {resume.score:.4f}, uninterrupted {resume.uninterrupted_score:.4f}"
        print(f"  test score: {scores}")


def report(args: argparse.Namespace, results: Results) -> None:
    load = os.getloadavg()
    print(
        f"\nAutoML for tables, {datetime.now():%Y-%m-%d %H:%M}: {platform.python_version()},"
        f" {os.cpu_count()} CPUs (load {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}),"
        f" test fraction {TEST_FRACTION}, {args.seeds} seed(s) from {args.first_seed},"
        f"{' side by side (a CPU each),' if args.side_by_side else ''} budgets"
        f" {', '.join(f'{b:g}' for b in args.budgets)} s"
    )
    print_scores(results)
    verdicts = print_overhead(results)
    if results.resume is not None:
        print_resume(results.resume)
    if verdicts:
        print("\nTargets")
        for line in verdicts:
            print(f"  {line}")
    for line in results.skipped:
        print(f"\nSkipped: {line}")
    for line in results.failures:
        print(f"\nNot measured: {line}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.flaml_side:
        dataset, seed, budget, folder = args.flaml_side
        return flaml_side(dataset, int(seed), float(budget), Path(folder))
    if args.side_by_side:
        pin_modelyard_side()
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as tmp:
        scratch = Path(tmp)
        # Before any workspace exists: the user's registry of workspaces is left alone.
        os.environ["MODELYARD_HOME"] = str(scratch / "modelyard-home")
        results = measure_all(args, scratch)
    report(args, results)
    failed = any(o.error for c in results.cells for lst in c.outcomes.values() for o in lst)
    failed = failed or bool(results.resume and results.resume.error)
    return 1 if results.failures or failed else 0


if __name__ == "__main__":
    sys.exit(main())
