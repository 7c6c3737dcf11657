"""`modelyard automl --task image-classification` as a user types it: the CLI and the job in
real subprocesses, the search's candidates child runs of the job's run, the best model published
on it and registered.

One search (two backbones × two learning rates, and the best fine-tuned) is run once for the
module; the tests read what it left.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from cli.commands import assert_refused_before_any_run, home_of_its_own, modelyard
from modelyard.entities import Run, RunStatus
from modelyard.services.workspaces import OpenWorkspace, open_workspace
from modelyard.vision.automl import CANDIDATE_TAG
from modelyard.vision.dataset import load_inputs
from modelyard.vision.preprocessing import default_spec
from vision.shapes import CLASSES, write_shapes

PER_CLASS = 6
IMAGES = PER_CLASS * len(CLASSES)
HEADS = [
    "resnet18 lr=0.01 epochs=2",
    "mobilenet_v3_large lr=0.01 epochs=2",
    "resnet18 lr=0.1 epochs=2",
    "mobilenet_v3_large lr=0.1 epochs=2",
]


@dataclass(frozen=True)
class Search:
    project: Path
    result: subprocess.CompletedProcess[str]

    def workspace(self) -> OpenWorkspace:
        return open_workspace(self.project.parent / "ws")


def _create_project(folder: Path) -> Path:
    folder.mkdir()
    created = modelyard(
        "workspace", "create", "automl-images", "--path", str(folder.parent / "ws"), cwd=folder
    )
    assert created.returncode == 0, created.stderr
    write_shapes(folder / "shapes", per_class=PER_CLASS)
    return folder


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Search]:
    with pytest.MonkeyPatch.context() as patch:  # the autouse fixture is per test
        patch.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("MODELYARD_HEARTBEAT_INTERVAL_S", "0.3")
        patch.setenv("MODELYARD_POLL_INTERVAL_S", "0.1")
        project = _create_project(tmp_path_factory.mktemp("automl-images") / "project")
        result = modelyard(
            "automl",
            "--task",
            "image-classification",
            "--data",
            "shapes",
            "--experiment",
            "shapes",
            "--time-budget",
            "600",
            "--allowed-models",
            "resnet18",
            "--allowed-models",
            "mobilenet",
            "--learning-rates",
            "0.01",
            "--learning-rates",
            "0.1",
            "--epochs",
            "2",
            "--fine-tune-finalists",
            "1",
            "--weights",
            "none",
            "--register",
            "shapes-model",
            cwd=project,
            timeout=900,
        )
        yield Search(project, result)


def _parent(ws: OpenWorkspace) -> Run:
    (parent,) = [run for run in ws.store.list_runs("shapes") if run.parent_id is None]
    return parent


def _leaderboard(ws: OpenWorkspace, run_id: str) -> dict[str, object]:
    path = ws.artifacts.run_root(run_id) / "outputs" / "leaderboard.json"
    return dict(json.loads(path.read_text()))


def test_each_candidate_is_a_child_run_and_the_best_is_registered(search: Search) -> None:
    out = search.result.stdout
    assert "Leaderboard (accuracy)" in out
    assert "Registered shapes-model:1" in out
    ws = search.workspace()
    try:
        parent = _parent(ws)
        assert parent.status is RunStatus.COMPLETED
        children = ws.store.list_runs("shapes", parent_id=parent.id)
        names = sorted(str(child.display_name) for child in children)
        finalist = next(name for name in names if name.endswith("fine-tuned"))
        assert names == sorted([*HEADS, finalist])
        assert {child.status for child in children} == {RunStatus.COMPLETED}
        for child in children:
            data = ws.store.get_run_data(child.id)
            assert data.tags[CANDIDATE_TAG] == child.display_name
            assert 0 <= data.latest_metrics["accuracy"] <= 1
            assert len(ws.store.get_metric_history(child.id, "validation_accuracy")) >= 1
        tuned = next(child for child in children if child.display_name == finalist)
        assert ws.store.get_run_data(tuned.id).params["fine_tune"] == "True"
    finally:
        ws.close()


def test_the_leaderboard_ranks_by_accuracy_and_names_the_published_child(search: Search) -> None:
    ws = search.workspace()
    try:
        parent = _parent(ws)
        board = _leaderboard(ws, parent.id)
        models = board["models"]
        assert isinstance(models, list) and len(models) == len(HEADS) + 1
        ranking = [(-entry["accuracy"], entry["validation_loss"]) for entry in models]
        assert ranking == sorted(ranking)
        best = models[0]
        assert board["exported"] == best["model"]
        assert board["best_run_id"] == best["run_id"]
        children = {child.id: child for child in ws.store.list_runs(parent_id=parent.id)}
        assert children[best["run_id"]].display_name == best["model"]
        # The finalist is the best head, fine-tuned.
        heads = [entry for entry in models if not entry["fine_tuned"]]
        (tuned,) = [entry for entry in models if entry["fine_tuned"]]
        assert tuned["model"] == f"{heads[0]['model']} fine-tuned"
        data = ws.store.get_run_data(parent.id)
        assert data.tags["best_child_run_id"] == best["run_id"]
        assert data.params["backbones"] == "resnet18,mobilenet_v3_large"
    finally:
        ws.close()


def test_each_backbone_is_featurized_once_for_all_its_head_candidates(search: Search) -> None:
    ws = search.workspace()
    try:
        children = ws.store.list_runs("shapes", parent_id=_parent(ws).id)
        by_name = {str(child.display_name): child for child in children}
        for backbone in ("resnet18", "mobilenet_v3_large"):
            first, second = (by_name[name] for name in HEADS if name.startswith(backbone))
            computed = ws.store.get_run_data(first.id).latest_metrics
            cached = ws.store.get_run_data(second.id).latest_metrics
            assert computed["featurized_images_computed"] == IMAGES
            assert cached["featurized_images_computed"] == 0
            assert cached["feature_cache_hits"] == IMAGES
    finally:
        ws.close()


def test_the_parents_best_model_scores_images_in_onnxruntime(search: Search) -> None:
    ws = search.workspace()
    try:
        outputs = ws.artifacts.run_root(_parent(ws).id) / "outputs"
        labels = json.loads((outputs / "bestModelMap.json").read_text())
        assert labels == sorted(CLASSES)
        for name in ("MLModel.zip", "MLModel.ConsoleApp/main.py", "evaluation/evaluation.json"):
            assert (outputs / name).is_file(), name
        session = onnxruntime.InferenceSession(
            str(outputs / "bestModel.onnx"), providers=["CPUExecutionProvider"]
        )
        images = sorted((search.project / "shapes").rglob("*.png"))
        logits = session.run(["output1"], {"input1": load_inputs(images, default_spec())})[0]
        assert logits.shape == (IMAGES, len(CLASSES))
        assert np.all(np.isfinite(logits))
    finally:
        ws.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _create_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each records no run (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _create_project(tmp_path_factory.mktemp("refusing") / "project")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--data", "missing"], "data 'missing' does not exist"),
        (["--time-budget", "3"], "--time-budget 3 s is too small for one trial"),
        (["--allowed-models", "resnet-18"], "did you mean 'resnet18'"),
        (["--label", "Label"], "--label, --n-cross-validations and --validation are for tables"),
        (["--task", "classification", "--epochs", "5"], "are for --task image-classification"),
    ],
)
def test_bad_input_is_one_line_and_no_run(refusing: Path, arguments: list[str], words: str) -> None:
    base = {"--task": "image-classification", "--data": "shapes", "--experiment": "bad"}
    assert_refused_before_any_run(refusing, refusing.parent / "ws", base, arguments, words)


def test_one_label_stops_the_run_at_its_guardrails_in_one_line(project: Path) -> None:
    only = project / "one label"
    (only / "red circle").mkdir(parents=True)
    for image in sorted((project / "shapes" / "red circle").iterdir()):
        image.rename(only / "red circle" / image.name)
    result = modelyard(
        "automl",
        "--task",
        "image-classification",
        "--data",
        "one label",
        "--experiment",
        "one",
        "--time-budget",
        "60",
        "--weights",
        "none",
        cwd=project,
        check=False,
        timeout=300,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "stopped: guardrails failed" in line and "one class only: 'red circle'" in line
    ws = open_workspace(project.parent / "ws")
    try:
        (run,) = ws.store.list_runs("one")
        assert ws.store.list_runs("one", parent_id=run.id) == []  # no candidate trained
    finally:
        ws.close()
