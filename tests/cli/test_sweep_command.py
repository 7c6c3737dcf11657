"""`modelyard job create -f sweep.yml` and `modelyard sweep show|resume`, as a user types them:
a sweep streams its driver's log and its leaderboard; a wrong sweep file is one line and
creates nothing; a sweep canceled midway is resumed and finishes its trials."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from cli.commands import home_of_its_own, modelyard
from cli.sweep_files import ONE_SLOW_TRIAL_AT_A_TIME, SWEEP, TRAIN
from modelyard.services.sweeps.trials import INTERRUPTED_ERROR
from polling import wait_for

LOGS_ANOTHER_METRIC = """
from modelyard import Run
Run.get_context().log("loss", 0.5)
"""


def _create_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "train.py").write_text(textwrap.dedent(TRAIN))
    modelyard("workspace", "create", "sweep-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each creates no run (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(tmp_path_factory.mktemp("refusing") / "project")


def runs_in(project: Path) -> list[dict[str, object]]:
    listed = modelyard("run", "list", "-o", "json", cwd=project).stdout
    return list(json.loads(listed))


def test_a_sweep_streams_its_log_and_leaderboard(project: Path) -> None:
    (project / "sweep.yml").write_text(SWEEP)
    result = modelyard("job", "create", "-f", "sweep.yml", "--stream", cwd=project)
    assert "3 trials, random sampling, at most 2 at once on local" in result.stdout
    assert result.stdout.count(" submitted: lr=") == 3
    assert "Trials (maximize accuracy; 3 of 3 ended)" in result.stdout
    assert "Best: trial " in result.stdout

    listed = runs_in(project)
    [parent] = [run for run in listed if run["parent_id"] is None]
    assert parent["status"] == "Completed"
    assert sum(1 for run in listed if run["parent_id"] == parent["id"]) == 3
    shown = json.loads(
        modelyard("sweep", "show", str(parent["id"]), "-o", "json", cwd=project).stdout
    )
    values = [trial["value"] for trial in shown["trials"]]
    assert values == sorted(values, reverse=True) and len(values) == 3
    assert shown["best_trial"]["value"] == values[0]

    refused = modelyard("sweep", "resume", str(parent["id"]), cwd=project, check=False)
    assert refused.returncode == 1
    assert "has completed: nothing to resume" in refused.stderr
    child = next(run for run in listed if run["parent_id"] == parent["id"])
    not_a_sweep = modelyard("sweep", "show", str(child["id"]), cwd=project, check=False)
    assert not_a_sweep.returncode == 1 and "is not a sweep" in not_a_sweep.stderr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("type: uniform, min_value: 0.0, max_value: 0.3", "type: gaussian, mu: 0, sigma: 1"),
            "search_space.lr has unknown distribution 'gaussian': use one of choice, randint,",
        ),
        (
            ("max_concurrent_trials: 2", "max_concurrent_trials: 0"),
            "limits.max_concurrent_trials is 0: it must be 1 to 1000; set it to how many"
            " trials may run at once",
        ),
        (
            ("{type: random, seed: 4}", "grid"),
            "grid sampling cannot enumerate search_space.lr, a uniform distribution: give"
            " every hyperparameter of a grid as {type: choice, values: [...]}",
        ),
        (
            ("--lr ${{search_space.lr}}", "--lr ${{search_space.rate}}"),
            "trial.command refers to ${{search_space.rate}}, which the search space does not"
            " define: add rate to search_space or fix the name",
        ),
        (
            ("goal: maximize", "goal: up"),
            "objective.goal is 'up': use maximize or minimize",
        ),
        (
            ("python train.py", "python missing.py"),
            "script 'missing.py' not found in source directory",
        ),
        (
            ("type: sweep", "type: spark"),
            "has type 'spark': use one of command, sweep, pipeline",
        ),
        (
            ("limits:", "early_termination: {type: bandit}\nlimits:"),
            "early_termination (bandit) needs exactly one of slack_factor and slack_amount",
        ),
    ],
)
def test_a_wrong_sweep_file_is_one_line_and_creates_nothing(
    refusing: Path, change: tuple[str, str], expected: str
) -> None:
    (refusing / "sweep.yml").write_text(SWEEP.replace(*change))
    result = modelyard("job", "create", "-f", "sweep.yml", cwd=refusing, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert runs_in(refusing) == []


def test_a_primary_metric_the_trials_never_log_fails_the_sweep_in_one_line(
    project: Path,
) -> None:
    (project / "train.py").write_text(textwrap.dedent(LOGS_ANOTHER_METRIC))
    (project / "sweep.yml").write_text(
        SWEEP.replace("max_concurrent_trials: 2", "max_concurrent_trials: 1")
    )
    result = modelyard("job", "create", "-f", "sweep.yml", "--stream", cwd=project, check=False)
    assert result.returncode == 1
    [parent] = [run for run in runs_in(project) if run["parent_id"] is None]
    error = str(parent["error"])
    assert parent["status"] == "Failed" and "\n" not in error
    assert error.startswith("trial 0 (run ")
    assert (
        "completed without logging the primary metric 'accuracy' (it logged loss): log it in"
        " the trial script with Run.get_context().log('accuracy', value)"
    ) in error
    assert len([run for run in runs_in(project) if run["parent_id"] == parent["id"]]) == 1


def test_a_canceled_sweep_resumes_and_finishes_its_trials(project: Path) -> None:
    (project / "sweep.yml").write_text(ONE_SLOW_TRIAL_AT_A_TIME)
    modelyard("job", "create", "-f", "sweep.yml", cwd=project)
    # The driver may already have created its first trial by the time the list is read.
    [parent] = [run for run in runs_in(project) if run["parent_id"] is None]

    def a_trial_ran() -> bool:
        return any(
            run["parent_id"] == parent["id"] and run["status"] in ("Running", "Completed")
            for run in runs_in(project)
        )

    wait_for(a_trial_ran, timeout=120)
    modelyard("run", "cancel", str(parent["id"]), cwd=project)
    canceled = [run for run in runs_in(project) if run["id"] == parent["id"]]
    assert canceled[0]["status"] == "Canceled"

    result = modelyard("sweep", "resume", str(parent["id"]), "--stream", cwd=project)
    assert f"Resumed sweep {parent['id']} as attempt 2." in result.stdout
    assert "Trials (maximize accuracy; 3 of 3 ended)" in result.stdout
    children = [run for run in runs_in(project) if run["parent_id"] == parent["id"]]
    # On a loaded machine the cancel's grace can end while the driver is submitting a trial:
    # that child never ran, is canceled as interrupted, and its trial is drawn again.
    never_ran = [run for run in children if run["error"] == INTERRUPTED_ERROR]
    assert len(never_ran) <= 1 and all(run["status"] == "Canceled" for run in never_ran)
    children = [run for run in children if run not in never_ran]
    assert len(children) == 3
    # The trial the cancel stopped stays canceled (with why); the others ran once each.
    statuses = sorted(str(run["status"]) for run in children)
    assert statuses in (["Completed"] * 3, ["Canceled", "Completed", "Completed"])
    for run in children:
        if run["status"] == "Canceled":
            assert run["error"] == "the sweep was canceled"
