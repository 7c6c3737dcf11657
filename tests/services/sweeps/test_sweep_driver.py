"""Sweeps end to end on real databases and real processes: the driver is a job, each trial a
child job queued through the scheduler; a killed driver is resumed and runs no trial twice."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from modelyard.entities import Run, RunStatus
from modelyard.entities.run_query import RunQuery
from modelyard.services import jobs, runs
from modelyard.services.job_file import load_job_file
from modelyard.services.resume import resume_sweep
from modelyard.services.sweeps.leaderboard import LEADERBOARD_FILE, read_leaderboard
from modelyard.services.sweeps.submission import submit_sweep
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.sweeps.trials import TRIAL_PROPERTY, is_interrupted
from modelyard.services.workspaces import OpenWorkspace
from polling import wait_for
from run_processes import pid_of

# accuracy = 1 - (lr - 0.1)^2, approached over `--steps` points; a trial whose lr is 1 or more
# runs for long (until it is canceled), so a policy has a clearly bad trial to cancel.
TRAIN = """
import argparse, time
from modelyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float)
parser.add_argument("--tag", default="")
parser.add_argument("--steps", type=int, default=3)
options = parser.parse_args()
run = Run.get_context()
steps = options.steps if options.lr < 1 else 300
for step in range(steps):
    run.log("accuracy", (1 - (options.lr - 0.1) ** 2) * (step + 1) / steps)
    run.flush()
    time.sleep(0.1)
"""

RANDOM_SWEEP = """
type: sweep
experiment_name: tune
sampling_algorithm: {{type: random, seed: 11}}
search_space:
  lr: {{type: uniform, min_value: 0.0, max_value: 0.5}}
objective: {{primary_metric: accuracy, goal: maximize}}
limits: {{max_total_trials: 4, max_concurrent_trials: 2}}
trial:
  code: src
  command: python train.py --lr ${{{{search_space.lr}}}} --steps {steps}
"""


def sweep_file(tmp_path: Path, text: str) -> SweepJob:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(textwrap.dedent(TRAIN))
    path = tmp_path / "sweep.yml"
    path.write_text(textwrap.dedent(text))
    job = load_job_file(path)
    assert isinstance(job, SweepJob)
    return job


def trials_of(ws: OpenWorkspace, parent: Run) -> list[tuple[Run, dict[str, str], dict[str, str]]]:
    """Each child with its params and properties, by trial number (interrupted ones last)."""
    found = []
    for child in ws.store.list_runs(parent_id=parent.id):
        data = ws.store.get_run_data(child.id)
        found.append((child, data.params, data.properties))
    return sorted(
        found, key=lambda item: (is_interrupted(item[0]), int(item[2].get(TRIAL_PROPERTY, 10**6)))
    )


def most_at_once(trials: list[Run]) -> int:
    """The most trials between their start and end at one moment, from the recorded times."""
    events: list[tuple[datetime, int]] = []
    for run in trials:
        assert run.started_at is not None and run.ended_at is not None
        events += [(run.started_at, 1), (run.ended_at, -1)]
    running = most = 0
    for _, change in sorted(events):  # at one moment, an end (-1) sorts before a start
        running += change
        most = max(most, running)
    return most


def test_a_random_sweep_runs_its_trials_as_children_two_at_a_time_and_ranks_them(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    parent = submit_sweep(workspace, sweep_file(tmp_path, RANDOM_SWEEP.format(steps=3)))
    final = jobs.wait_for_completion(workspace, parent.id, timeout_s=240)
    assert final.status is RunStatus.COMPLETED, final.error

    trials = trials_of(workspace, final)
    assert [props[TRIAL_PROPERTY] for _, _, props in trials] == ["0", "1", "2", "3"]
    children = [child for child, _, _ in trials]
    assert all(child.status is RunStatus.COMPLETED for child in children)
    assert {child.compute_target for child in children} == {"local"}
    assert [child.display_name for child in children] == [
        f"{final.display_name}_trial_{n}" for n in range(4)
    ]
    assert most_at_once(children) <= 2
    lrs = [float(params["lr"]) for _, params, _ in trials]
    assert len(set(lrs)) == 4 and all(0 <= lr <= 0.5 for lr in lrs)

    # Each trial logged what its params say; the best is the one nearest lr = 0.1.
    accuracy = {
        child.id: workspace.store.get_run_data(child.id).latest_metrics["accuracy"]
        for child in children
    }
    for child, params, _ in trials:
        assert accuracy[child.id] == pytest.approx(1 - (float(params["lr"]) - 0.1) ** 2)
    best = max(children, key=lambda child: accuracy[child.id])
    tags = workspace.store.get_run_data(final.id).tags
    assert tags["sweep.best_trial"] == best.id and tags["sweep.trials"] == "4/4"
    assert float(tags["sweep.best_value"]) == accuracy[best.id]

    published = json.loads(
        workspace.local_artifacts.local_path(final.id, LEADERBOARD_FILE).read_text()
    )
    assert published["best_trial"]["run_id"] == best.id
    assert [row["value"] for row in published["trials"]] == sorted(accuracy.values(), reverse=True)
    assert read_leaderboard(workspace, final.id).to_dict() == published
    # What a portal's leaderboard reads: the children, sorted by the primary metric.
    page = workspace.store.query_runs(
        RunQuery("tune", parent_id=final.id, order_by="metric:accuracy")
    )
    assert [run.id for run in page.runs] == [row["run_id"] for row in published["trials"]]
    assert [page.params[run.id]["lr"] for run in page.runs] == [
        str(row["params"]["lr"]) for row in published["trials"]
    ]


def test_a_grid_sweep_runs_exactly_the_grid(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    job = sweep_file(
        tmp_path,
        """
        type: sweep
        experiment_name: grid
        sampling_algorithm: grid
        search_space:
          lr: {type: choice, values: [0.05, 0.1, 0.2]}
          tag: {type: choice, values: [a, b]}
        objective: {primary_metric: accuracy, goal: maximize}
        limits: {max_total_trials: 100, max_concurrent_trials: 3}
        trial:
          code: src
          command: python train.py --lr ${{search_space.lr}} --tag ${{search_space.tag}} --steps 1
        """,
    )
    parent = submit_sweep(sqlite_workspace, job)
    final = jobs.wait_for_completion(sqlite_workspace, parent.id, timeout_s=240)
    assert final.status is RunStatus.COMPLETED, final.error
    points = sorted((p["lr"], p["tag"]) for _, p, _ in trials_of(sqlite_workspace, final))
    assert points == [(lr, tag) for lr in ("0.05", "0.1", "0.2") for tag in "ab"]
    assert sqlite_workspace.store.get_run_data(final.id).tags["sweep.trials"] == "6/6"


def test_the_bandit_policy_cancels_a_clearly_bad_trial_with_its_reason(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    job = sweep_file(
        tmp_path,
        """
        type: sweep
        experiment_name: bandit
        sampling_algorithm: grid
        search_space:
          lr: {type: choice, values: [0.1, 5.0]}
        objective: {primary_metric: accuracy, goal: maximize}
        early_termination:
          {type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 2}
        limits: {max_total_trials: 2, max_concurrent_trials: 2}
        trial:
          code: src
          command: python train.py --lr ${{search_space.lr}} --steps 3
        """,
    )
    parent = submit_sweep(sqlite_workspace, job)
    final = jobs.wait_for_completion(sqlite_workspace, parent.id, timeout_s=240)
    assert final.status is RunStatus.COMPLETED, final.error
    (good, good_params, _), (bad, bad_params, _) = trials_of(sqlite_workspace, final)
    assert (good_params["lr"], bad_params["lr"]) == ("0.1", "5.0")
    assert good.status is RunStatus.COMPLETED
    assert bad.status is RunStatus.CANCELED and bad.error is not None
    assert bad.error.startswith("early termination (bandit policy): accuracy -")
    assert "the best trial's" in bad.error and "(1 + slack_factor 0.1)" in bad.error
    board = read_leaderboard(sqlite_workspace, final.id)
    assert board.best is not None and board.best.run_id == good.id
    assert [entry.reason for entry in board.entries] == [None, bad.error]


def test_a_sweep_whose_driver_is_killed_resumes_without_running_a_trial_twice(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    parent = submit_sweep(workspace, sweep_file(tmp_path, RANDOM_SWEEP.format(steps=8)))

    def driver_mid_sweep() -> psutil.Process | None:
        children = workspace.store.list_runs(parent_id=parent.id)
        if not 1 <= len(children) < 4:
            return None
        supervisor = workspace.store.get_run(parent.id)
        pid = pid_of(supervisor)
        if pid is None:
            return None
        for process in psutil.Process(pid).children():
            if "modelyard.builtin_jobs.sweep" in " ".join(process.cmdline()):
                return process
        return None

    driver = wait_for(driver_mid_sweep, timeout=120)
    os.kill(driver.pid, signal.SIGKILL)
    failed = wait_for(
        lambda: (run := workspace.store.get_run(parent.id)).status.is_terminal and run
    )
    assert failed.status is RunStatus.FAILED
    submitted_before = len(workspace.store.list_runs(parent_id=parent.id))
    assert submitted_before < 4

    resumed = resume_sweep(workspace, parent.id)
    assert resumed.attempt == 2 and resumed.error is None and resumed.ended_at is None
    final = jobs.wait_for_completion(workspace, parent.id, timeout_s=240)
    assert final.status is RunStatus.COMPLETED, final.error

    children = trials_of(workspace, final)
    trials = [item for item in children if not is_interrupted(item[0])]
    assert [props[TRIAL_PROPERTY] for _, _, props in trials] == ["0", "1", "2", "3"]
    assert len({params["lr"] for _, params, _ in trials}) == 4  # no params ran twice
    assert [(run.status, run.error) for run, _, _ in trials] == [(RunStatus.COMPLETED, None)] * 4
    for run, _, _ in trials:  # each ran once: an earlier attempt is a launch the kill cut short
        for attempt in runs.list_attempts(workspace, run.id):
            assert attempt.outcome is RunStatus.STARTING and attempt.started_at is None
    for run, _, _ in children[len(trials) :]:  # a submission the kill cut short never ran
        assert run.status is RunStatus.CANCELED and run.started_at is None
    [earlier] = runs.list_attempts(workspace, parent.id)
    assert earlier.outcome is RunStatus.FAILED
    assert workspace.store.get_run_data(final.id).tags["sweep.trials"] == "4/4"


def test_canceling_a_sweep_cancels_its_trials(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    job = sweep_file(
        tmp_path,
        """
        type: sweep
        experiment_name: canceled
        search_space:
          lr: {type: uniform, min_value: 2, max_value: 3}
        objective: {primary_metric: accuracy, goal: maximize}
        limits: {max_total_trials: 5, max_concurrent_trials: 2}
        trial:
          code: src
          command: python train.py --lr ${{search_space.lr}}
        """,
    )
    parent = submit_sweep(sqlite_workspace, job)
    wait_for(
        lambda: (
            sum(
                child.status is RunStatus.RUNNING
                for child in sqlite_workspace.store.list_runs(parent_id=parent.id)
            )
            == 2
        ),
        timeout=240,  # two trial processes starting on a loaded 2-core machine
    )
    runs.cancel_run(sqlite_workspace, parent.id)
    final = jobs.wait_for_completion(sqlite_workspace, parent.id, timeout_s=60)
    assert final.status is RunStatus.CANCELED

    def all_ended() -> list[Run] | None:
        found = sqlite_workspace.store.list_runs(parent_id=parent.id)
        return found if found and all(child.status.is_terminal for child in found) else None

    children = wait_for(all_ended)
    assert len(children) == 2
    assert {(child.status, child.error) for child in children} == {
        (RunStatus.CANCELED, "the sweep was canceled")
    }
