"""AutoML for images: the search space and its checks, and the trainer in this process on a
real interactive run (its candidates real child runs) over small generated images.

The job end to end (the CLI, the scheduler, the published model) is in
tests/cli/test_automl_images_command.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from shapes import write_shapes

from modelyard import Experiment, Workspace
from modelyard.entities import RunStatus
from modelyard.errors import InvalidValue
from modelyard.runtime.job_env import job_environment
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.services.workspaces import OpenWorkspace
from modelyard.vision.automl import CANDIDATE_TAG, LEADERBOARD_FILE, ImageAutoMLTrainer
from modelyard.vision.automl_config import Candidate, ImageAutoMLConfig, backbone_name

DRIVER = Path(__file__).with_name("automl_resume_driver.py")
FAST = {"weights": "none", "learning_rates": (0.01, 0.1), "epochs": (3,)}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shapes(tmp_path_factory.mktemp("automl-images") / "shapes", per_class=6)


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One feature cache for the module: each backbone is featurized by its first test."""
    return tmp_path_factory.mktemp("automl-caches")


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.create("automl-images", path=tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


def _search(
    config: ImageAutoMLConfig,
    run: object,
    caches: Path,
    checkpoints: Path,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    budget_spent: bool = False,
) -> dict[str, object]:
    """One attempt of the job, in a fresh working folder as the supervisor gives each; its
    leaderboard."""
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    trainer = ImageAutoMLTrainer(
        config.validated(), caches / "features", run, caches / "guardrails", checkpoints
    )
    if budget_spent:
        trainer.started -= config.time_budget_s  # as if the search had already run that long
    trainer.train()
    return dict(json.loads((folder / "outputs" / LEADERBOARD_FILE).read_text()))


# the search space ------------------------------------------------------------------------------


def test_candidates_go_breadth_first_so_a_short_budget_still_compares_backbones() -> None:
    config = ImageAutoMLConfig("data", allowed_backbones=["resnet18", "mobilenet"], **FAST)
    assert [c.key for c in config.candidates()] == [
        "resnet18 lr=0.01 epochs=3",
        "mobilenet_v3_large lr=0.01 epochs=3",
        "resnet18 lr=0.1 epochs=3",
        "mobilenet_v3_large lr=0.1 epochs=3",
    ]


def test_the_default_search_is_the_four_backbones_of_the_issue() -> None:
    assert ImageAutoMLConfig("data").backbones == (
        "resnet50",
        "resnet18",
        "mobilenet_v3_large",
        "efficientnet-lite0",
    )
    blocked = ImageAutoMLConfig("data", blocked_backbones=["resnet50", "MobileNet"])
    assert blocked.backbones == ("resnet18", "efficientnet-lite0")


def test_a_candidate_trains_as_the_image_trainer_would_and_a_finalist_more_gently() -> None:
    config = ImageAutoMLConfig("data", batch_size=4, seed=3)
    head = config.candidate_config(Candidate("resnet18", 0.03, 50))
    assert (head.backbone, head.learning_rate, head.epochs, head.fine_tune) == (
        "resnet18",
        0.03,
        50,
        False,
    )
    assert (head.batch_size, head.seed) == (4, 3)
    tuned = config.candidate_config(Candidate("resnet18", 0.03, 50, fine_tuned=True))
    assert tuned.fine_tune and tuned.learning_rate == pytest.approx(0.003)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"time_budget_s": 5}, "--time-budget 5 s is too small for one trial"),
        ({"allowed_backbones": ["resnet"]}, "backbone 'resnet' is not an image-classification"),
        (
            {"blocked_backbones": ["resnet50", "resnet18", "mobilenet", "efficientnet-lite0"]},
            "no backbone",
        ),
        ({"learning_rates": ()}, "--learning-rates is empty"),
        ({"learning_rates": (-1.0,)}, "--learning-rate -1.0 must be a number above 0"),
        ({"epochs": (0,)}, "--epochs 0 is out of range"),
        ({"primary_metric": "AUC_weighted"}, "use accuracy"),
        ({"fine_tune_finalists": -1}, "--fine-tune-finalists -1"),
    ],
)
def test_a_bad_search_is_refused_in_one_line(
    shapes: Path, changes: dict[str, object], words: str
) -> None:
    config = ImageAutoMLConfig(str(shapes), **changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as raised:
        config.validated()
    assert words in raised.value.message
    assert "\n" not in raised.value.message


def test_a_missing_folder_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist") as raised:
        ImageAutoMLConfig(str(tmp_path / "nowhere")).validated()
    assert "nowhere" in str(raised.value)


def test_an_unknown_backbone_name_suggests_the_closest() -> None:
    with pytest.raises(InvalidValue, match="did you mean 'resnet18'"):
        backbone_name("resnet-18")
    assert backbone_name("mobilenet") == "mobilenet_v3_large"


# the trainer -----------------------------------------------------------------------------------


def test_a_spent_budget_trains_one_candidate_and_the_next_attempt_only_the_others(
    workspace: Workspace,
    shapes: Path,
    caches: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = ImageAutoMLConfig(str(shapes), allowed_backbones=["resnet18"], **FAST)
    run = Experiment(workspace, "shapes").start_logging()
    checkpoints = tmp_path / "checkpoints"  # the run's durable folder, the same each attempt

    first = _search(config, run, caches, checkpoints, tmp_path / "1", monkeypatch, True)
    assert [entry["model"] for entry in first["models"]] == ["resnet18 lr=0.01 epochs=3"]
    assert first["skipped"] == [
        {"model": "resnet18 lr=0.1 epochs=3", "reason": "the time budget was spent"}
    ]
    capsys.readouterr()

    second = _search(config, run, caches, checkpoints, tmp_path / "2", monkeypatch)
    assert "resnet18 lr=0.01 epochs=3: trained by an earlier attempt" in capsys.readouterr().out
    assert sorted(entry["model"] for entry in second["models"]) == [
        "resnet18 lr=0.01 epochs=3",
        "resnet18 lr=0.1 epochs=3",
    ]
    assert second["skipped"] == []
    children = run.get_children()
    assert sorted(child.get_tags()[CANDIDATE_TAG] for child in children) == [
        "resnet18 lr=0.01 epochs=3",  # once: not trained again
        "resnet18 lr=0.1 epochs=3",
    ]
    assert {child.get_status() for child in children} == {"Completed"}
    # The best of both attempts is the one published.
    assert second["exported"] == second["models"][0]["model"]  # type: ignore[index]
    assert (tmp_path / "2" / "outputs" / "bestModel.onnx").is_file()
    run.complete()


def test_a_backbone_whose_weights_cannot_be_had_is_skipped_and_named(
    workspace: Workspace,
    shapes: Path,
    caches: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-cache"))
    # No internet here: resnet18's ImageNet weights can't be had, Lite0's ship in a package.
    config = ImageAutoMLConfig(
        str(shapes),
        allowed_backbones=["resnet18", "efficientnet-lite0"],
        learning_rates=(0.01,),
        epochs=(3,),
    )
    run = Experiment(workspace, "offline").start_logging()

    board = _search(config, run, caches, tmp_path / "checkpoints", tmp_path / "1", monkeypatch)

    assert [entry["model"] for entry in board["models"]] == ["efficientnet-lite0 lr=0.01 epochs=3"]
    (skipped,) = board["skipped"]  # type: ignore[misc]
    assert skipped["model"] == "resnet18 lr=0.01 epochs=3"
    assert "ImageNet weights for resnet18" in skipped["reason"]
    assert [child.display_name for child in run.get_children()] == [
        "efficientnet-lite0 lr=0.01 epochs=3"
    ]
    run.complete()


# a preempted job -------------------------------------------------------------------------------


def test_a_preempted_job_trains_only_what_its_first_attempt_did_not_finish(
    sqlite_workspace: OpenWorkspace, shapes: Path, caches: Path, tmp_path: Path
) -> None:
    """The real job in subprocesses, the test playing the scheduler: SIGTERM while the second
    candidate is at its third epoch, then the run's next attempt."""
    ws = sqlite_workspace
    config = ImageAutoMLConfig(
        str(shapes), allowed_backbones=["resnet18"], weights="none", learning_rates=(0.01,)
    )
    config = replace(config, epochs=(2, 4))
    (tmp_path / "config.json").write_text(json.dumps(config.validated().to_dict()))
    run = ws.store.create_run("shapes", user="test", status=RunStatus.RUNNING)
    arguments = [
        "--config",
        str(tmp_path / "config.json"),
        "--feature-cache",
        str(caches / "features"),
        "--guardrail-cache",
        str(caches / "guardrails"),
    ]

    def attempt(number: int, command: list[str]) -> subprocess.Popen[str]:
        environment = job_environment(
            ws.root, run.id, checkpoint_dir=tmp_path / "checkpoints", attempt=number
        )
        environment["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
        folder = tmp_path / f"attempt-{number}"
        (folder / "outputs").mkdir(parents=True)
        return subprocess.Popen(
            [sys.executable, *command, *arguments],
            env=environment,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    marker = tmp_path / "paused"
    first = attempt(1, [str(DRIVER), "epoch:3", str(marker)])
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert first.poll() is None, first.communicate()[0]
        assert time.monotonic() < deadline, "the job never reached its pause"
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    output, _ = first.communicate(timeout=300)
    assert first.returncode == STOPPED_EXIT_CODE, output
    assert (
        "stopped after epoch 3: the next attempt resumes from the checkpoint (attempt 1)" in output
    )

    second = attempt(2, ["-m", "modelyard.builtin_jobs.automl_images"])
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output
    assert "resnet18 lr=0.01 epochs=2: trained by an earlier attempt, not again" in output
    assert "resumed from the checkpoint after epoch 3/4" in output
    children = ws.store.list_runs("shapes", parent_id=run.id)
    statuses = sorted((str(child.display_name), child.status.value) for child in children)
    assert statuses == [
        ("resnet18 lr=0.01 epochs=2", "Completed"),  # once: not trained again
        ("resnet18 lr=0.01 epochs=4", "Completed"),  # resumed from its third epoch
        ("resnet18 lr=0.01 epochs=4", "Failed"),  # stopped by the preemption
    ]
    assert (tmp_path / "attempt-2" / "outputs" / "bestModel.onnx").is_file()
