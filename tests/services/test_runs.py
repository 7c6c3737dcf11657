"""Naming a run as a user does (id, id prefix, display name), its duration, and its artifacts:
the same answers from the SQL store (SQLite, PostgreSQL) and over REST from a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue, NotFound
from modelyard.server import create_app
from modelyard.services import runs
from modelyard.services.auth import create_token, ensure_admin
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

# Ids chosen so that prefixes collide the way random ones rarely do in a test.
ID_A = "abcd1111" + "0" * 24
ID_B = "abcd2222" + "0" * 24
ID_C = "ef012345" + "0" * 24


def _run_with_id(ws: OpenWorkspace, experiment: str, run_id: str, name: str | None = None) -> Run:
    created = ws.store.create_run(experiment, user="tester", display_name=name)
    with ws.sql_store._engine.begin() as connection:
        connection.execute(
            text("UPDATE runs SET id = :new WHERE id = :old"), {"new": run_id, "old": created.id}
        )
    return ws.store.get_run(run_id)


def _three_runs(ws: OpenWorkspace) -> None:
    _run_with_id(ws, "flowers", ID_A)  # flowers_1
    _run_with_id(ws, "flowers", ID_B)  # flowers_2
    _run_with_id(ws, "digits", ID_C, name="flowers_1")  # a user's name, twin of another


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[tuple[OpenWorkspace, OpenWorkspace]]:
    """(the server's own workspace, a client's view of it over REST)."""
    served = create_workspace("served-ws", path=tmp_path / "server-side")
    ensure_admin(served)
    try:
        with serve(create_app(served)) as url:
            client = open_remote_workspace(url, create_token(served, "laptop")[1])
            try:
                yield served, client
            finally:
                client.close()
    finally:
        served.close()


def _check_naming(ws: OpenWorkspace) -> None:
    assert runs.resolve_run(ws, ID_A).id == ID_A  # the whole id
    assert runs.resolve_run(ws, "abcd1").id == ID_A  # a unique prefix, as in git
    assert runs.resolve_run(ws, "ef01").id == ID_C  # the shortest prefix taken
    assert runs.resolve_run(ws, "flowers_2").id == ID_B  # the display name
    assert runs.resolve_run(ws, "flowers_1", "flowers").id == ID_A  # ... within an experiment
    assert runs.resolve_run(ws, "flowers_1", "digits").id == ID_C
    assert runs.resolve_run(ws, "abcd2", "flowers").id == ID_B


def _check_refusals(ws: OpenWorkspace) -> None:
    with pytest.raises(InvalidValue) as ambiguous:
        runs.resolve_run(ws, "abcd")
    message = ambiguous.value.message
    assert "'abcd' is ambiguous" in message
    assert "abcd1111 (flowers/flowers_1)" in message and "abcd2222 (flowers/flowers_2)" in message
    assert "\n" not in message
    with pytest.raises(InvalidValue, match=r"'flowers_1' is ambiguous.*--experiment"):
        runs.resolve_run(ws, "flowers_1")
    with pytest.raises(NotFound, match="needs 4 characters or more"):
        runs.resolve_run(ws, "ef0")  # too short to be a prefix, even a unique one
    with pytest.raises(NotFound, match="run 'nosuch' not found in experiment 'flowers'"):
        runs.resolve_run(ws, "nosuch", "flowers")
    with pytest.raises(NotFound, match="run 'ef01' not found in experiment 'flowers'"):
        runs.resolve_run(ws, "ef01", "flowers")  # the prefix names a run of another experiment
    with pytest.raises(NotFound, match="experiment 'nope' not found"):
        runs.resolve_run(ws, "flowers_1", "nope")
    with pytest.raises(NotFound, match="run '" + "9" * 32 + "' not found"):
        runs.resolve_run(ws, "9" * 32)
    with pytest.raises(NotFound):
        runs.resolve_run(ws, "abcd%")  # LIKE's wildcards are no wildcards here
    with pytest.raises(NotFound):
        runs.resolve_run(ws, "ab_d")


def test_a_run_is_named_by_id_prefix_or_display_name(workspace: OpenWorkspace) -> None:
    _three_runs(workspace)
    _check_naming(workspace)
    _check_refusals(workspace)


def test_a_run_is_named_the_same_way_through_the_rest_store(
    remote: tuple[OpenWorkspace, OpenWorkspace],
) -> None:
    served, client = remote
    _three_runs(served)
    _check_naming(client)
    _check_refusals(client)


def test_list_runs_filters_by_id_prefix_and_display_name(
    remote: tuple[OpenWorkspace, OpenWorkspace],
) -> None:
    served, client = remote
    _three_runs(served)
    for store in (served.store, client.store):
        assert {r.id for r in store.list_runs(id_prefix="abcd")} == {ID_A, ID_B}
        assert {r.id for r in store.list_runs(display_name="flowers_1")} == {ID_A, ID_C}
        assert [r.id for r in store.list_runs("digits", display_name="flowers_1")] == [ID_C]
        assert store.list_runs(id_prefix="abcd%") == []


def test_duration_runs_from_start_to_end_or_to_now() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    run = Run(
        id=ID_A,
        experiment_id="e",
        experiment_name="flowers",
        number=1,
        display_name="flowers_1",
        status=RunStatus.RUNNING,
        created_at=start,
        user="tester",
        started_at=start,
    )
    assert runs.run_duration_s(run, now=start + timedelta(seconds=90)) == 90
    ended = Run(**{**run.__dict__, "status": RunStatus.COMPLETED, "ended_at": start})
    assert runs.run_duration_s(ended) == 0
    queued = Run(**{**run.__dict__, "status": RunStatus.QUEUED, "started_at": None})
    assert runs.run_duration_s(queued) is None


def test_artifacts_download_a_file_a_folder_or_everything_over_rest(
    remote: tuple[OpenWorkspace, OpenWorkspace], tmp_path: Path
) -> None:
    served, client = remote
    run = served.store.create_run("flowers", user="tester")
    served.artifacts.put_bytes(run.id, "outputs/model.onnx", b"model")
    served.artifacts.put_bytes(run.id, "outputs/eval/report.json", b"{}")
    served.artifacts.put_bytes(run.id, "logs/std_log.txt", b"log")

    listed = [info.path for info in runs.list_artifacts(client, run.id)]
    assert listed == ["logs/std_log.txt", "outputs/eval/report.json", "outputs/model.onnx"]

    file = runs.download_artifacts(client, run.id, "outputs/model.onnx", tmp_path / "one")
    assert file == [tmp_path / "one"] and (tmp_path / "one").read_bytes() == b"model"
    folder = runs.download_artifacts(client, run.id, "outputs", tmp_path / "out")
    assert sorted(folder) == [
        tmp_path / "out" / "eval" / "report.json",
        tmp_path / "out/model.onnx",
    ]
    everything = runs.download_artifacts(client, run.id, "", tmp_path / "all")
    assert (tmp_path / "all" / "logs" / "std_log.txt").read_bytes() == b"log"
    assert len(everything) == 3
    with pytest.raises(NotFound, match="artifact 'outputs/nope' not found"):
        runs.download_artifacts(client, run.id, "outputs/nope", tmp_path / "x")
