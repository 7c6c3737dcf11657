"""A preempted image-classification job resumes, and ends as if it had never been stopped.

Each attempt is the real job (`python -m modelyard.builtin_jobs.image_classification`, or the
same `main` paused at a chosen point by resume_driver.py) in a subprocess with the run's
variables, a fresh working folder and the run's durable checkpoint folder, as the supervisor
starts it. The test plays the scheduler: SIGTERM (twice, as the group and the supervisor send
it), then the next attempt of the same run. The finished run must hold the same metrics, at the
same steps, as a run never interrupted: no step twice, none missing.

Except in `test_a_preempted_job_resumes_through_the_scheduler`, the supervisor and the
scheduler are not involved (the run is created Running and left so).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from shapes import write_shapes

from modelyard.entities import RunStatus
from modelyard.entities.compute import ComputeRequest, Priority, ProvisioningState
from modelyard.runtime.job_env import job_environment
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.services import computes, jobs, runs
from modelyard.services.run_files import STD_LOG
from modelyard.services.training import submit_image_classification
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from modelyard.vision.config import ImageClassificationConfig

JOB_MODULE = "modelyard.builtin_jobs.image_classification"
DRIVER = Path(__file__).with_name("resume_driver.py")
DEADLINE_S = 300.0
PER_CLASS = 24  # 72 images: three featurization batches (32, 64, 72)
CONFIG = {"backbone": "resnet18", "weights": "none", "epochs": 6, "early_stopping_patience": 30}
# How long each attempt took and what it found in the cache: true of an attempt, not of the model.
ATTEMPT_METRICS = {"featurize_seconds", "featurize_images_per_s"}
CACHE_METRICS = {"feature_cache_hits", "featurized_images_computed"}

Series = dict[str, list[tuple[int, float]]]


@dataclass(frozen=True)
class Job:
    ws: OpenWorkspace
    run_id: str
    folder: Path  # config, caches and checkpoints of this run

    @property
    def checkpoints(self) -> Path:
        return self.folder / "checkpoints"

    def arguments(self) -> list[str]:
        return [
            "--config",
            str(self.folder / "config.json"),
            "--feature-cache",
            str(self.folder / "features"),
            "--guardrail-cache",
            str(self.folder / "guardrails"),
        ]

    def environment(self, attempt: int, **extra: str) -> dict[str, str]:
        environment = job_environment(
            self.ws.root, self.run_id, checkpoint_dir=self.checkpoints, attempt=attempt
        )
        environment["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
        return {**environment, **extra}

    def workdir(self, attempt: int) -> Path:
        """A fresh working copy per attempt, with `outputs/`, as the supervisor makes it."""
        folder = self.folder / f"attempt-{attempt}"
        (folder / "outputs").mkdir(parents=True)
        return folder

    def run_to_the_end(self, attempt: int) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", JOB_MODULE, *self.arguments()],
            env=self.environment(attempt),
            cwd=self.workdir(attempt),
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        return completed.stdout

    def stop_at(self, point: str, attempt: int, kill: bool = False, **extra: str) -> str:
        """Start the job, wait until it reaches `point`, then stop it as a preemption does
        (or SIGKILL it, as the end of the grace period does); its output."""
        marker = self.folder / f"paused-{attempt}"
        workdir = self.workdir(attempt)
        process = subprocess.Popen(
            [sys.executable, str(DRIVER), point, str(marker), *self.arguments()],
            env=self.environment(attempt, **extra),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _wait_for(marker, process)
        for signum in [signal.SIGKILL] if kill else [signal.SIGTERM, signal.SIGTERM]:
            process.send_signal(signum)
        output, _ = process.communicate(timeout=DEADLINE_S)
        expected = -signal.SIGKILL if kill else STOPPED_EXIT_CODE
        assert process.returncode == expected, output
        # A stopped attempt leaves no model behind, only what the next one resumes from.
        assert not (workdir / "outputs" / "MLModel.zip").exists()
        return output

    def metrics(self) -> Series:
        series: Series = defaultdict(list)
        for point in self.ws.store.get_metric_history(self.run_id):
            series[point.name].append((point.step, point.value))
        return {name: sorted(points) for name, points in series.items()}


def _wait_for(marker: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not marker.exists():
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(
                f"the job ended before its pause ({process.returncode}):\n{output}"
            )
        assert time.monotonic() < deadline, "the job never reached its pause"
        time.sleep(0.05)


def _new_job(ws: OpenWorkspace, data: Path, folder: Path) -> Job:
    folder.mkdir(parents=True)
    config = ImageClassificationConfig(data=str(data), **CONFIG)  # type: ignore[arg-type]
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    run = ws.store.create_run("shapes", user="test", status=RunStatus.RUNNING)
    return Job(ws, run.id, folder)


def _without(series: Series, names: set[str]) -> Series:
    return {name: points for name, points in series.items() if name not in names}


@pytest.fixture(scope="module")
def shapes_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shapes(tmp_path_factory.mktemp("shapes") / "data", per_class=PER_CLASS)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, shapes_data: Path) -> Iterator[Series]:
    """The metrics of the same training never stopped (a workspace of its own)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODELYARD_HOME", str(root / "home"))
        ws = create_workspace("resume-baseline", path=root / "ws")
        try:
            job = _new_job(ws, shapes_data, root / "job")
            job.run_to_the_end(attempt=1)
            yield job.metrics()
        finally:
            ws.close()


def _check_the_same_training(resumed: Series, uninterrupted: Series) -> None:
    assert _without(resumed, ATTEMPT_METRICS) == _without(uninterrupted, ATTEMPT_METRICS)
    # Spelled out, as the issue asks: every epoch once, the same final accuracy.
    assert [step for step, _ in resumed["validation_accuracy"]] == list(range(1, 7))
    assert resumed["accuracy"] == uninterrupted["accuracy"]


def test_a_stop_during_featurization_keeps_the_finished_features_and_resumes(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, shapes_data: Path, uninterrupted: Series
) -> None:
    job = _new_job(sqlite_workspace, shapes_data, tmp_path / "job")

    output = job.stop_at("featurized:32", attempt=1)
    assert "stopped featurizing, 32 images done" in output
    cached = list((job.folder / "features").rglob("*.f32"))
    assert len(cached) == 32  # the finished batch stays; nothing else was computed
    assert "epoch" not in job.metrics()

    output = job.run_to_the_end(attempt=2)
    assert "featurize: 64/72 images" in output

    resumed = job.metrics()
    # The second attempt computed only what the first had not.
    assert resumed["feature_cache_hits"] == [(0, 32.0)]
    assert resumed["featurized_images_computed"] == [(0, 40.0)]
    _check_the_same_training(
        _without(resumed, CACHE_METRICS), _without(uninterrupted, CACHE_METRICS)
    )


def test_two_stops_in_a_row_during_training_resume_from_each_checkpoint(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, shapes_data: Path, uninterrupted: Series
) -> None:
    job = _new_job(sqlite_workspace, shapes_data, tmp_path / "job")

    assert "stopped after epoch 2" in job.stop_at("epoch:2", attempt=1)
    assert [step for step, _ in job.metrics()["epoch"]] == [1, 2]
    output = job.stop_at("epoch:4", attempt=2)
    assert "resumed from the checkpoint after epoch 2/6" in output
    assert "stopped after epoch 4" in output
    output = job.run_to_the_end(attempt=3)
    assert "resumed from the checkpoint after epoch 4/6" in output
    assert "epoch 5/6" in output and "epoch 3/6" not in output

    _check_the_same_training(job.metrics(), uninterrupted)


def test_a_job_killed_past_its_grace_period_loses_no_step(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, shapes_data: Path, uninterrupted: Series
) -> None:
    job = _new_job(sqlite_workspace, shapes_data, tmp_path / "job")
    # The epochs' points stay in the buffer (no timed flush) and die with the process, and the
    # checkpoint of epoch 3 is never written: epochs 1-2 come back from the checkpoint's
    # history, epoch 3 is trained again.
    job.stop_at("epoch:3", attempt=1, kill=True, MODELYARD_METRIC_FLUSH_INTERVAL_S="3600")
    assert "epoch" not in job.metrics()

    job.run_to_the_end(attempt=2)

    _check_the_same_training(job.metrics(), uninterrupted)


def test_a_preempted_job_resumes_through_the_scheduler(
    sqlite_workspace: OpenWorkspace, shapes_data: Path, uninterrupted: Series
) -> None:
    """The real path: submitted on a low-priority compute, preempted on demand while training
    (`modelyard compute preempt`), requeued and resumed by its supervisor and the scheduler."""
    ws = sqlite_workspace
    cheap = computes.create_compute(
        ws, ComputeRequest("cheap", size="Standard_DS1_v2", priority=Priority.LOW_PRIORITY)
    )
    assert cheap.state is ProvisioningState.SUCCEEDED, cheap.errors
    config = ImageClassificationConfig(data=str(shapes_data), compute_target="cheap", **CONFIG)  # type: ignore[arg-type]
    run = submit_image_classification(ws, "shapes", config)
    _until(lambda: len(ws.store.get_metric_history(run.id, "epoch")) >= 2)
    assert [r.id for r in computes.preempt(ws, "cheap")] == [run.id]
    _until(lambda: runs.get_run(ws, run.id).attempt == 2)

    final = jobs.wait_for_completion(ws, run.id, timeout_s=DEADLINE_S)
    assert final.status is RunStatus.COMPLETED, final.error
    [attempt] = ws.compute_store.list_attempts(run.id)
    assert attempt.outcome is RunStatus.PREEMPTED and "on demand" in attempt.cause
    log = (ws.local_artifacts.run_root(run.id) / STD_LOG).read_text()
    assert "resumed from the checkpoint after epoch" in log
    resumed = Job(ws, run.id, Path()).metrics()
    _check_the_same_training(
        _without(resumed, CACHE_METRICS), _without(uninterrupted, CACHE_METRICS)
    )


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
