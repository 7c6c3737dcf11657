"""Workspaces on disk: create, find, open, list, delete; bad input leaves nothing behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from modelyard.errors import AlreadyExists, InvalidName, InvalidValue, NotFound, StoreUnavailable
from modelyard.services import workspaces as service


def test_create_writes_config_database_and_folders(tmp_path: Path, store_uri: str) -> None:
    ws = service.create_workspace(
        "team-ws",
        path=tmp_path / "ws",
        location="eu-west",
        resource_group="vision",
        store_uri=store_uri,
        project_dir=tmp_path / "project",
    )
    ws.close()
    config = json.loads((tmp_path / "ws" / "config.json").read_text())
    assert config["name"] == "team-ws" and config["location"] == "eu-west"
    assert config["resource_group"] == "vision" and config["store_uri"] == store_uri
    assert (tmp_path / "ws" / "artifacts").is_dir() and (tmp_path / "ws" / "cache").is_dir()
    project_config = json.loads((tmp_path / "project" / ".modelyard" / "config.json").read_text())
    assert project_config["workspace_path"] == str(tmp_path / "ws")
    assert [w.name for w in service.list_workspaces()] == ["team-ws"]
    assert service.resolve_workspace_root("team-ws") == tmp_path / "ws"


def test_the_workspace_config_is_private_as_its_store_uri_may_hold_a_password(
    tmp_path: Path,
) -> None:
    service.create_workspace("private-ws", path=tmp_path / "ws").close()

    assert stat.S_IMODE((tmp_path / "ws" / "config.json").stat().st_mode) == 0o600


def test_sqlite_workspace_uses_wal(tmp_path: Path) -> None:
    ws = service.create_workspace("wal-ws", path=tmp_path / "ws")
    with ws.store._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
    ws.close()


def test_bad_name_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidName):
        service.create_workspace("a_b", path=tmp_path / "ws", project_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_store_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach the workspace database"):
        service.create_workspace(
            "pg-ws", path=tmp_path / "ws", store_uri="postgresql://nobody@127.0.0.1:1/none"
        )
    assert not (tmp_path / "ws").exists()
    assert service.list_workspaces() == []


def test_unsupported_store_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="unsupported store URI 'mysql://x/y'"):
        service.create_workspace("my-ws", path=tmp_path / "ws", store_uri="mysql://x/y")
    assert not (tmp_path / "ws").exists()


def test_name_and_folder_collisions(tmp_path: Path) -> None:
    service.create_workspace("dup-ws", path=tmp_path / "a").close()
    with pytest.raises(AlreadyExists, match="workspace 'dup-ws' already exists"):
        service.create_workspace("dup-ws", path=tmp_path / "b")
    with pytest.raises(AlreadyExists, match="already exists at"):
        service.create_workspace("other-ws", path=tmp_path / "a")
    assert not (tmp_path / "b").exists()


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service.create_workspace("env-ws", path=tmp_path / "env").close()
    service.create_workspace("proj-ws", path=tmp_path / "proj", project_dir=tmp_path / "p").close()
    nested = tmp_path / "p" / "x" / "y"
    nested.mkdir(parents=True)
    assert service.resolve_workspace_root(start=nested) == tmp_path / "proj"
    monkeypatch.setenv("MODELYARD_WORKSPACE", "env-ws")
    assert service.resolve_workspace_root(start=nested) == tmp_path / "env"
    assert service.resolve_workspace_root(str(tmp_path / "proj")) == tmp_path / "proj"
    with pytest.raises(NotFound, match="workspace 'nope' not found"):
        service.resolve_workspace_root("nope")


def test_damaged_config_is_a_clear_error(tmp_path: Path) -> None:
    service.create_workspace("dmg-ws", path=tmp_path / "ws").close()
    (tmp_path / "ws" / "config.json").write_text("{broken")
    with pytest.raises(InvalidValue, match="is damaged"):
        service.open_workspace(tmp_path / "ws")


def test_delete_removes_folder_and_registration(tmp_path: Path) -> None:
    service.create_workspace("del-ws", path=tmp_path / "ws").close()
    service.delete_workspace("del-ws")
    assert not (tmp_path / "ws").exists()
    assert service.list_workspaces() == []
    service.create_workspace("del-ws", path=tmp_path / "ws").close()  # The name is free again.


def test_a_job_of_a_served_workspace_knows_the_server_for_that_workspace_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = service.create_workspace("served-ws", path=tmp_path / "served")
    other = service.create_workspace("other-ws", path=tmp_path / "other")
    # What a server's scheduling pass gives a local job it launches beside its workspace.
    monkeypatch.setenv(service.SERVED_AT_ENV, "http://127.0.0.1:8765")
    monkeypatch.setenv(service.JOB_WORKSPACE_ENV, str(served.root))

    assert service.open_workspace(served.root).served_at == "http://127.0.0.1:8765"
    assert service.open_workspace(other.root).served_at is None  # the job's code opened it

    monkeypatch.delenv(service.JOB_WORKSPACE_ENV)
    assert service.open_workspace(served.root).served_at is None
