"""The Python SDK as a user writes it: Workspace, Experiment, Run, ScriptRunConfig."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import modelyard
from modelyard import (
    Conflict,
    Experiment,
    JobFailed,
    NotFound,
    OfflineRun,
    Run,
    RunStatus,
    ScriptRunConfig,
    Workspace,
)
from modelyard.errors import InvalidTransition


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Workspace:
    workspace = Workspace.create("sdk-ws", path=tmp_path / "ws", store_uri=store_uri)
    yield workspace  # type: ignore[misc]
    workspace.close()


def test_public_api_is_complete() -> None:
    exported = set(modelyard.__all__)
    public = {
        name
        for name in dir(modelyard)
        if (not name.startswith("_") or name == "__version__")
        and not isinstance(getattr(modelyard, name), types.ModuleType)  # Subpackages.
    }
    assert public - {"annotations"} == exported
    for name in exported:
        assert getattr(modelyard, name) is not None


def test_interactive_run_logs_everything(ws: Workspace, tmp_path: Path) -> None:
    run = Experiment(ws, "notebook").start_logging(display_name="try-1")
    run.log("loss", 0.5)
    run.log("loss", 0.25)
    run.log_metrics({"accuracy": 0.9, "f1": 0.8})
    run.log_params({"lr": 0.1, "layers": 3})
    run.log_param("lr", 0.1)  # The same value again is fine.
    with pytest.raises(Conflict, match="immutable"):
        run.log_param("lr", 0.2)
    run.set_tags({"stage": "dev"})
    run.set_tag("stage", "prod")
    run.add_properties({"owner": "ana"})
    (tmp_path / "report.txt").write_text("all good")
    run.upload_file("outputs/report.txt", tmp_path / "report.txt")
    assert run.get_status() == "Running"
    run.complete()
    assert run.get_status() == "Completed"
    run.fail("too late")  # ended already: nothing changes
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"loss": [0.5, 0.25], "accuracy": 0.9, "f1": 0.8}
    assert run.get_params() == {"lr": "0.1", "layers": "3"}
    assert run.get_tags() == {"stage": "prod"}
    assert run.get_properties() == {"owner": "ana"}
    assert run.get_file_names() == ["outputs/report.txt"]
    downloaded = run.download_file("outputs/report.txt", tmp_path / "copy.txt")
    assert downloaded.read_text() == "all good"
    details = run.get_details()
    assert details["display_name"] == "try-1" and details["status"] == "Completed"


def test_child_runs(ws: Workspace) -> None:
    with Experiment(ws, "sweep").start_logging() as parent:
        for fold in range(3):
            with parent.child_run(f"fold-{fold}") as child:
                child.log("score", fold / 10)
        children = parent.get_children()
    assert sorted(c.display_name for c in children) == ["fold-0", "fold-1", "fold-2"]
    assert all(c.get_status() == "Completed" for c in children)
    assert parent.get_status() == "Completed"


def test_exception_inside_a_run_block_fails_it(ws: Workspace) -> None:
    with pytest.raises(ValueError), Experiment(ws, "e").start_logging() as run:
        raise ValueError("bad batch")
    details = run.get_details()
    assert details["status"] == "Failed" and "bad batch" in details["error"]


def test_get_context_outside_a_job_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OfflineRun, "_warned", False)  # once per process: other tests warned
    run = Run.get_context()
    assert isinstance(run, OfflineRun)
    with pytest.warns(UserWarning, match="not inside a Modelyard job"):
        run.log("x", 1.0)
    with pytest.raises(JobFailed, match="inside a Modelyard job"):
        Run.get_context(allow_offline=False)


def test_submit_and_wait(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.py").write_text("from modelyard import Run\nRun.get_context().log('m', 1)\n")
    (source / "bad.py").write_text("raise RuntimeError('broken on purpose')\n")
    experiment = Experiment(ws, "submitted")
    run = experiment.submit(ScriptRunConfig(source, "ok.py"))
    assert run.wait_for_completion()["status"] == "Completed"
    assert run.get_metrics() == {"m": 1.0}
    failing = experiment.submit(ScriptRunConfig(source, "bad.py"))
    with pytest.raises(JobFailed, match="broken on purpose"):
        failing.wait_for_completion()
    assert [r.id for r in experiment.get_runs(statuses=[RunStatus.FAILED])] == [failing.id]


def test_from_config_walks_up_parent_folders(tmp_path: Path) -> None:
    Workspace.create("found-ws", path=tmp_path / "ws").write_config(tmp_path / "project")
    nested = tmp_path / "project" / "src" / "deep"
    nested.mkdir(parents=True)
    with Workspace.from_config(nested) as found:
        assert found.name == "found-ws" and found.path == tmp_path / "ws"
    with pytest.raises(NotFound, match=r"no \.modelyard/config\.json"):
        Workspace.from_config(tmp_path / "elsewhere")


def test_interactive_run_of_a_killed_process_does_not_stay_running(
    ws: Workspace, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from modelyard import Experiment, Workspace
        run = Experiment(Workspace.get({str(ws.path)!r}), "killed").start_logging()
        print(run.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    run_id = result.stdout.split()[0]
    import time

    from modelyard.services.runs import reap_dead_runs

    deadline = time.monotonic() + 30
    while ws._opened.store.get_run(run_id).status is RunStatus.RUNNING:
        assert time.monotonic() < deadline
        reap_dead_runs(ws._opened)
        time.sleep(0.2)
    record = ws._opened.store.get_run(run_id)
    assert record.status is RunStatus.FAILED and "is gone" in (record.error or "")


def test_cancel_a_submitted_job(ws: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "slow"
    source.mkdir()
    (source / "slow.py").write_text("import time\nprint('working', flush=True)\ntime.sleep(600)\n")
    run = Experiment(ws, "cancel-me").submit(ScriptRunConfig(source, "slow.py"))
    import time

    deadline = time.monotonic() + 60
    while run.get_status() != "Running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # Its supervisor records its end: this process can cancel it, not end it quietly.
    with pytest.raises(InvalidTransition, match=r"driven by another process.*run\.cancel\(\)"):
        run.fail("from outside")
    assert run.get_status() == "Running"
    run.cancel()
    assert run.get_status() == "Canceled"
    details = run.wait_for_completion(raise_on_error=False)
    assert details["status"] == "Canceled" and details["ended_at"] is not None
    run.complete()  # an ended run keeps its end
    assert run.get_status() == "Canceled"


def test_an_image_classification_config_is_submitted_like_any_job(
    ws: Workspace, tmp_path: Path
) -> None:
    from modelyard import ImageClassificationConfig, InvalidValue, predict
    from vision.shapes import write_shapes

    data = write_shapes(tmp_path / "data", per_class=4)
    experiment = Experiment(ws, "shapes")
    with pytest.raises(InvalidValue, match="--epochs 0 is out of range"):
        experiment.submit(ImageClassificationConfig(data=str(data), epochs=0))
    assert list(experiment.get_runs()) == []
    config = ImageClassificationConfig(
        data=str(data), backbone="resnet18", weights="none", epochs=2
    )
    run = experiment.submit(config)
    details = run.wait_for_completion(timeout=600)
    assert details["status"] == "Completed", run.get_details()
    assert details["params"]["backbone"] == "resnet18"
    assert "outputs/MLModel.zip" in run.get_file_names()
    downloaded = run.download_file("outputs/MLModel.zip", tmp_path / "MLModel.zip")
    predictor = predict.load(downloaded)
    assert predictor.labels == sorted(path.name for path in data.iterdir())
