"""Components over a real server (uvicorn on 127.0.0.1, auth on), on SQLite and PostgreSQL:
a workspace behind the server registers, versions, archives and reads components through the
routes (its code downloaded and checked file by file); readers read, contributors register;
a tampered upload is refused and registers nothing."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.entities import Role
from modelyard.errors import NotFound
from modelyard.server import create_app
from modelyard.services import auth, components
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.remote import open_remote_workspace
from modelyard.services.workspaces import OpenWorkspace
from server.serving import serve

API = "/api/v1"
TIMEOUT = 60  # a loaded machine answers slowly; a hang still fails

COMPONENT = """
name: train
inputs:
  data: {type: uri_folder}
  epochs: {type: integer, default: 3}
outputs:
  model: {type: uri_folder}
code: ./src
command: >-
  python train.py --data ${{inputs.data}} --epochs ${{inputs.epochs}}
  --out ${{outputs.model}}
"""

PIPELINE = """
type: pipeline
experiment_name: remote-components
inputs:
  raw: {type: uri_folder, path: azureml:flowers@latest}
jobs:
  train:
    component: azureml:train@latest
    inputs: {data: '${{parent.inputs.raw}}', epochs: 5}
"""


@pytest.fixture
def tokens(workspace: OpenWorkspace) -> dict[str, str]:
    admin = auth.ensure_admin(workspace)
    assert admin is not None
    auth.create_user(workspace, "ana", Role.CONTRIBUTOR)
    auth.create_user(workspace, "rita", Role.READER)
    return {
        "admin": admin,
        "ana": auth.create_token(workspace, "laptop", "ana")[1],
        "reader": auth.create_token(workspace, "laptop", "rita")[1],
    }


@pytest.fixture
def base(workspace: OpenWorkspace, tokens: dict[str, str]) -> Iterator[str]:
    with serve(create_app(workspace)) as url:
        yield url + API


@pytest.fixture
def component_file(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print('training')\n")
    (tmp_path / "src" / "util").mkdir()
    (tmp_path / "src" / "util" / "helpers.py").write_text("X = 1\n")
    path = tmp_path / "train.yml"
    path.write_text(textwrap.dedent(COMPONENT))
    return path


def _as(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_workspace_behind_the_server_registers_and_reads_components_through_the_routes(
    base: str, tokens: dict[str, str], component_file: Path, workspace: OpenWorkspace
) -> None:
    remote = open_remote_workspace(base.removesuffix(API), tokens["ana"])
    try:
        made = components.create_component(remote, component_file)
        assert (made.created, made.version.reference, made.version.created_by) == (
            True,
            "azureml:train:1",
            "ana",
        )
        assert not components.create_component(remote, component_file).created
        # On the server's side, with the code in its blob store.
        here = workspace.component_store.list_component_versions("train")
        assert [v.content_hash for v in here] == [made.version.content_hash]

        (component_file.parent / "src" / "train.py").write_text("print('v2')\n")
        assert components.create_component(remote, component_file).version.version == 2
        code = components.code_path(remote, components.get_component_version(remote, "train:1"))
        assert (code / "train.py").read_text() == "print('training')\n"
        assert (code / "util" / "helpers.py").read_text() == "X = 1\n"

        components.set_archived(remote, "train:2", True)
        assert components.get_component_version(remote, "train@latest").version == 1
        assert [v.version for v in components.list_versions(remote, "train")] == [1]
        [summary] = components.list_components(remote)
        assert (summary.latest_version, summary.version_count) == (1, 2)
        with pytest.raises(NotFound, match="component 'train' has no version 9"):
            components.get_component_version(remote, "train:9")
    finally:
        remote.close()


def test_a_pipeline_behind_the_server_runs_the_registered_code(
    base: str, tokens: dict[str, str], component_file: Path, tmp_path: Path
) -> None:
    remote = open_remote_workspace(base.removesuffix(API), tokens["ana"])
    try:
        components.create_component(remote, component_file)
        path = tmp_path / "pipeline.yml"
        path.write_text(textwrap.dedent(PIPELINE))
        job = load_job_file(path, remote)
        assert isinstance(job, PipelineJob)
        step = job.pipeline.steps["train"]
        assert step.component == "azureml:train:1"
        assert (Path(step.code) / "train.py").read_text() == "print('training')\n"
        assert job.pipeline.steps["train"].inputs["epochs"].type is not None
    finally:
        remote.close()


def test_readers_read_and_contributors_register(
    base: str, tokens: dict[str, str], component_file: Path, workspace: OpenWorkspace
) -> None:
    remote = open_remote_workspace(base.removesuffix(API), tokens["ana"])
    try:
        components.create_component(remote, component_file)
    finally:
        remote.close()
    reader = _as(tokens["reader"])
    listed = httpx.get(f"{base}/components", headers=reader, timeout=TIMEOUT)
    assert listed.status_code == 200 and [c["name"] for c in listed.json()] == ["train"]
    shown = httpx.get(
        f"{base}/components/train/versions/latest", headers=reader, timeout=TIMEOUT
    ).json()
    assert shown["reference"] == "azureml:train:1" and shown["inputs"]["epochs"]["default"] == 3
    manifest = httpx.get(
        f"{base}/components/train/versions/1/manifest", headers=reader, timeout=TIMEOUT
    ).json()
    assert [entry["path"] for entry in manifest] == ["train.py", "util/helpers.py"]
    got = httpx.get(
        f"{base}/components/train/versions/1/files/util/helpers.py", headers=reader, timeout=TIMEOUT
    )
    assert got.content == b"X = 1\n"

    refused = httpx.patch(
        f"{base}/components/train/versions/1",
        json={"archived": True},
        headers=reader,
        timeout=TIMEOUT,
    )
    assert refused.status_code == 403
    upload = _archive({"definition": shown, "code_hash": "0" * 64}, {})
    posted = httpx.post(
        f"{base}/components/train/versions",
        content=upload,
        headers={**reader, "content-type": "application/x-tar"},
        timeout=TIMEOUT,
    )
    assert posted.status_code == 403


def test_an_upload_unlike_what_the_client_hashed_registers_nothing(
    base: str, tokens: dict[str, str], workspace: OpenWorkspace
) -> None:
    definition = {
        "type": "command",
        "command": ["python", "train.py"],
        "inputs": {},
        "outputs": {},
        "environment": None,
        "display_name": None,
        "description": None,
    }
    upload = _archive({"definition": definition, "code_hash": "0" * 64}, {"train.py": b"x"})
    posted = httpx.post(
        f"{base}/components/train/versions",
        content=upload,
        headers={**_as(tokens["ana"]), "content-type": "application/x-tar"},
        timeout=TIMEOUT,
    )
    assert posted.status_code == 400, posted.text
    assert "component upload refused: the code arrived with content" in posted.json()["message"]
    assert workspace.component_store.list_components() == []

    bad = {**definition, "command": ["python", "train.py", "${{inputs.nope}}"]}
    posted = httpx.post(
        f"{base}/components/train/versions",
        content=_archive({"definition": bad, "code_hash": "0" * 64}, {}),
        headers={**_as(tokens["ana"]), "content-type": "application/x-tar"},
        timeout=TIMEOUT,
    )
    assert posted.status_code == 400
    assert "which it does not declare under inputs" in posted.json()["message"]


def _archive(description: dict[str, object], files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in {"component.json": json.dumps(description).encode(), **files}.items():
            member = name if name == "component.json" else f"files/{name}"
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
