"""The model registry over a real server (uvicorn on 127.0.0.1, auth on), on SQLite and
PostgreSQL: each route's role, the services of a workspace behind the server going through the
routes (a folder sent as an archive, a run's outputs named by path, files checked by hash), and
refusals as one-line errors rebuilt on the client."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Role, RunStatus
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import Conflict, InvalidValue, NotFound
from modelyard.server import create_app
from modelyard.services import auth, models, runs
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from server.serving import serve

API = "/api/v1"


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(workspace)
    assert admin is not None
    auth.create_user(workspace, "ana", Role.CONTRIBUTOR)
    auth.create_user(workspace, "rita", Role.READER)
    run = workspace.store.create_run("jobs", user="ana", status=RunStatus.RUNNING)
    return {
        "admin": admin,
        "contributor": auth.create_token(workspace, "laptop", "ana")[1],
        "reader": auth.create_token(workspace, "laptop", "rita")[1],
        "job": auth.create_run_token(workspace, run)[1],
    }


@pytest.fixture
def server_url(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as url:
        yield url


@pytest.fixture
def client_ws(server_url: str, tokens: dict[str, str]) -> Iterator[OpenWorkspace]:
    ws = open_remote_workspace(server_url, tokens["contributor"])
    try:
        yield ws
    finally:
        ws.close()


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _archive(files: dict[str, bytes], description: bytes = b"{}") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in {"model.json": description, **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _post_archive(url: str, token: str, name: str, body: bytes) -> httpx.Response:
    headers = {**_as(token), "content-type": "application/x-tar"}
    return httpx.post(f"{url}{API}/models/{name}/versions", content=body, headers=headers)


def test_readers_read_contributors_change(server_url: str, tokens: dict[str, str]) -> None:
    body = _archive({"files/model.bin": b"weights"})
    assert _post_archive(server_url, tokens["reader"], "m", body).status_code == 403
    assert _post_archive(server_url, tokens["job"], "m", body).status_code == 403
    created = _post_archive(server_url, tokens["contributor"], "m", body)
    assert created.status_code == 201, created.text
    assert (created.json()["reference"], created.json()["created_by"]) == ("m:1", "ana")

    base, reader = f"{server_url}{API}/models", _as(tokens["reader"])
    assert [m["name"] for m in httpx.get(base, headers=reader).json()] == ["m"]
    assert httpx.get(f"{base}/m/versions/latest", headers=reader).json()["version"] == 1
    downloaded = httpx.get(f"{base}/m/versions/1/files/model.bin", headers=reader)
    assert downloaded.content == b"weights"
    put = {"json": {"version": 1}}
    assert httpx.put(f"{base}/m/aliases/prod", headers=reader, **put).status_code == 403  # type: ignore[arg-type]
    assert httpx.delete(f"{base}/m/versions/1", headers=reader).status_code == 403
    moved = httpx.put(f"{base}/m/aliases/prod", headers=_as(tokens["contributor"]), **put)  # type: ignore[arg-type]
    assert moved.json() == {"name": "m", "alias": "prod", "version": 1}
    assert httpx.get(f"{base}/m/aliases/prod", headers=reader).json()["version"] == 1


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"files/../x": b"1"}, "unsafe artifact path"),
        ({"other/x": b"1"}, "is not a file under files/"),
        ({}, "holds no files"),
    ],
)
def test_a_bad_archive_is_refused_in_one_line(
    server_url: str, tokens: dict[str, str], files: dict[str, bytes], words: str
) -> None:
    answer = _post_archive(server_url, tokens["contributor"], "m", _archive(files))
    assert answer.status_code in (400, 404), answer.text
    assert words in answer.json()["message"]
    assert httpx.get(f"{server_url}{API}/models", headers=_as(tokens["admin"])).json() == []


def test_a_workspace_behind_the_server_registers_and_reads_through_it(
    client_ws: OpenWorkspace, workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"weights")
    (folder / "sub" / "vocab.txt").write_text("a b c")
    request = ModelVersionRequest("flowers", description="d", tags={"t": "1"})

    version = models.register_model(client_ws, folder, request)
    assert (version.reference, version.created_by, version.tags) == ("flowers:1", "ana", {"t": "1"})
    assert [f.path for f in version.files] == ["model.bin", "sub/vocab.txt"]
    # The server holds the files; this machine gets them back, checked, on demand.
    assert models.get_model_version(workspace, "flowers:1").files == version.files
    directory = models.model_dir(client_ws, "flowers")
    assert (directory / "sub" / "vocab.txt").read_text() == "a b c"
    assert directory.is_relative_to(client_ws.root)

    models.set_alias(client_ws, "flowers", "champion", 1)
    updated = models.update_version(
        client_ws, "flowers@champion", set_tags={"u": "2"}, add_properties={"p": "x"}
    )
    assert (updated.tags, updated.properties) == ({"t": "1", "u": "2"}, {"p": "x"})
    with pytest.raises(Conflict, match="properties are add-only"):
        models.update_version(client_ws, "flowers:1", add_properties={"p": "y"})
    with pytest.raises(NotFound, match="has no version 9: its versions are 1"):
        models.get_model_version(client_ws, "flowers:9")
    assert [m.name for m in models.list_models(client_ws)] == ["flowers"]

    models.delete_version(client_ws, "flowers:1")
    assert models.get_model(workspace, "flowers").aliases == {}
    models.delete_model(client_ws, "flowers")
    assert models.list_models(workspace) == []


def test_a_runs_outputs_register_on_the_server_without_leaving_it(
    client_ws: OpenWorkspace, workspace: OpenWorkspace
) -> None:
    run = runs.start_interactive_run(workspace, "exp", user="ana")
    workspace.artifacts.put_bytes(run.id, "outputs/model.bin", b"trained")
    runs.end_run(workspace, run.id, RunStatus.COMPLETED)

    version = models.register_run_model(client_ws, run.id, ModelVersionRequest("m"))
    assert [f.path for f in version.files] == ["model.bin"]
    assert (version.lineage.run_id, version.lineage.experiment) == (run.id, "exp")
    with pytest.raises(NotFound, match="has no artifact 'nothing'"):
        models.register_run_model(client_ws, run.id, ModelVersionRequest("m"), "nothing")
    with pytest.raises(InvalidValue, match="invalid model name"):
        models.register_run_model(client_ws, run.id, ModelVersionRequest("a b"))
