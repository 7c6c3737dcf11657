"""An ended run is a record: what a job produces is refused once it is Completed, Failed or
Canceled, on SQLite, PostgreSQL and over REST alike; its tags stay editable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.entities import Metric, Run, RunStatus
from modelyard.errors import HTTP_STATUS, InvalidTransition, NotFound, RunEnded
from modelyard.server import create_app
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from modelyard.store.rest import RestStore
from modelyard.store.rest_artifacts import RestArtifactStore
from server.serving import serve


def _ended(ws: OpenWorkspace, status: RunStatus) -> Run:
    run = ws.store.create_run("e", user="u", status=RunStatus.RUNNING)
    ws.store.log_batch(run.id, [Metric("loss", 1.0, 0, time.time())], params={"lr": "0.1"})
    ws.store.add_properties(run.id, {"stage": "train"})
    return ws.store.transition_run(run.id, status)


def _points(ws: OpenWorkspace, run_id: str) -> list[float]:
    return [metric.value for metric in ws.store.get_metric_history(run_id)]


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED])
def test_an_ended_run_refuses_metrics_params_properties_and_heartbeats(
    workspace: OpenWorkspace, status: RunStatus
) -> None:
    run = _ended(workspace, status)
    store = workspace.store
    with pytest.raises(RunEnded, match=rf"run {run.id} has already ended \({status.value}\)"):
        store.log_batch(run.id, [Metric("loss", 0.5, 1, time.time())])
    with pytest.raises(RunEnded, match="takes no more params"):
        store.log_batch(run.id, params={"epochs": "3"})
    with pytest.raises(RunEnded, match="takes no more properties"):
        store.add_properties(run.id, {"owner": "ana"})
    with pytest.raises(RunEnded, match="takes no more heartbeats"):
        store.heartbeat(run.id)
    assert _points(workspace, run.id) == [1.0]  # nothing of a refused batch landed
    data = store.get_run_data(run.id)
    assert data.params == {"lr": "0.1"} and data.properties == {"stage": "train"}
    assert store.get_run(run.id).heartbeat_at == run.heartbeat_at


def test_a_refused_batch_leaves_nothing_even_its_tags(workspace: OpenWorkspace) -> None:
    run = _ended(workspace, RunStatus.FAILED)
    with pytest.raises(RunEnded):
        workspace.store.log_batch(
            run.id, [Metric("loss", 0.5, 1, time.time())], tags={"note": "late"}
        )
    assert workspace.store.get_run_data(run.id).tags == {}


def test_an_ended_run_keeps_editable_tags(workspace: OpenWorkspace) -> None:
    run = _ended(workspace, RunStatus.COMPLETED)
    workspace.store.log_batch(run.id, tags={"best": "yes"})
    assert workspace.store.get_run_data(run.id).tags == {"best": "yes"}


@pytest.mark.parametrize("status", [RunStatus.NOT_RESPONDING, RunStatus.CANCEL_REQUESTED])
def test_a_run_not_yet_ended_takes_its_last_words(
    workspace: OpenWorkspace, status: RunStatus
) -> None:
    # A stalled job that comes back, or one flushing while it is being canceled.
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    workspace.store.transition_run(run.id, status)
    workspace.store.log_batch(run.id, [Metric("loss", 0.5, 0, time.time())])
    workspace.artifacts.put_bytes(run.id, "outputs/last.txt", b"bye")
    assert _points(workspace, run.id) == [0.5]


def test_an_ended_run_refuses_artifacts_and_leaves_no_file(workspace: OpenWorkspace) -> None:
    run = _ended(workspace, RunStatus.CANCELED)
    with pytest.raises(RunEnded, match="takes no more artifacts"):
        workspace.artifacts.put_bytes(run.id, "outputs/late.txt", b"late")
    assert workspace.artifacts.list(run.id) == []
    with pytest.raises(NotFound, match="run 'nope' not found"):
        workspace.artifacts.put_bytes("nope", "outputs/x.txt", b"x")


def test_run_ended_is_an_invalid_transition_sent_as_409() -> None:
    assert issubclass(RunEnded, InvalidTransition)
    assert HTTP_STATUS[RunEnded.code] == 409


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[OpenWorkspace, str]]:
    ws = create_workspace("rest-ws", path=tmp_path / "ws")
    try:
        with serve(create_app(ws, auth=False)) as url:
            yield ws, url
    finally:
        ws.close()


def test_over_rest_the_refusal_comes_back_as_the_same_error(
    served: tuple[OpenWorkspace, str], tmp_path: Path
) -> None:
    ws, url = served
    run = _ended(ws, RunStatus.FAILED)
    remote = RestStore(url)
    try:
        with pytest.raises(RunEnded, match=f"run {run.id} has already ended"):
            remote.log_batch(run.id, [Metric("loss", 0.5, 1, time.time())])
        with pytest.raises(RunEnded):
            remote.heartbeat(run.id)
        with pytest.raises(RunEnded, match="takes no more artifacts"):
            RestArtifactStore(remote.client).put_bytes(run.id, "outputs/late.txt", b"late")
    finally:
        remote.close()
    assert _points(ws, run.id) == [1.0] and ws.artifacts.list(run.id) == []
