"""HyperDrive (Azure ML v1's sweep API) over the same sweeps: `experiment.submit(config)`
returns a HyperDriveRun whose children are the trials, ranked by the primary metric."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard import Experiment, ScriptRunConfig, Workspace
from modelyard.errors import Conflict, InvalidValue
from modelyard.hyperdrive import (
    GridParameterSampling,
    HyperDriveConfig,
    HyperDriveRun,
    PrimaryMetricGoal,
    RandomParameterSampling,
    TruncationSelectionPolicy,
    choice,
    uniform,
)

TRAIN = """
import argparse
from modelyard import Run

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--lr", type=float)
options = parser.parse_args()
run = Run.get_context()
for epoch in range(options.epochs):
    run.log("loss", (options.lr - 0.1) ** 2 + 1 / (epoch + 1))
"""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.create("sweep-sdk", path=tmp_path / "ws")
    yield workspace
    workspace.close()


def test_a_hyperdrive_run_ranks_its_children_by_the_primary_metric(
    ws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    config = HyperDriveConfig(
        run_config=ScriptRunConfig(tmp_path, "train.py", ["--epochs", 2]),
        hyperparameter_sampling=GridParameterSampling({"--lr": choice(0.05, 0.1, 0.3)}),
        primary_metric_name="loss",
        primary_metric_goal=PrimaryMetricGoal.MINIMIZE,
        max_total_runs=10,
        max_concurrent_runs=2,
    )
    run = Experiment(ws, "hyper").submit(config)
    assert isinstance(run, HyperDriveRun)
    run.wait_for_completion()
    assert run.get_status() == "Completed"
    assert len(run.get_children()) == 3
    best = run.get_best_run_by_primary_metric()
    assert best is not None and best.get_params() == {"lr": "0.1"}
    ranked = run.get_children_sorted_by_primary_metric()
    assert [row["hyperparameters"]["lr"] for row in ranked] == [0.1, 0.05, 0.3]
    assert ranked[0]["best_primary_metric"] == pytest.approx(0.5)
    assert run.get_children_sorted_by_primary_metric(top=1) == ranked[:1]
    with pytest.raises(Conflict, match="has completed: nothing to resume"):
        HyperDriveRun(run.experiment, run.id).resume()


def test_a_wrong_hyperdrive_config_is_refused_at_submit_with_nothing_created(
    ws: Workspace, tmp_path: Path
) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    experiment = Experiment(ws, "refused")
    wrong = HyperDriveConfig(
        run_config=ScriptRunConfig(tmp_path, "train.py"),
        hyperparameter_sampling=RandomParameterSampling({"lr": uniform(1, 0.1)}),
        primary_metric_name="loss",
        primary_metric_goal="minimize",
        max_total_runs=4,
        policy=TruncationSelectionPolicy(truncation_percentage=20),
    )
    with pytest.raises(InvalidValue, match=r"min_value 1 and max_value 0\.1: min_value must be"):
        experiment.submit(wrong)
    no_run_config = HyperDriveConfig(
        hyperparameter_sampling=GridParameterSampling({"lr": choice([0.1, 0.2])}),
        primary_metric_name="loss",
        primary_metric_goal="minimize",
        max_total_runs=4,
    )
    with pytest.raises(InvalidValue, match="needs run_config"):
        experiment.submit(no_run_config)
    assert list(experiment.get_runs()) == []
