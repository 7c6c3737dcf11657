"""Data assets as a service, on real SQLite and PostgreSQL with real files: content identity
(the same content is the same version, a changed byte a new one with its parent), immutable
copies, incremental hashing, archive and @latest, download, a real job reading a version
through its `inputs`, and lineage from the version to the runs and models."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.data import DataType, DataVersionRequest, RunInput
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import AlreadyExists, InvalidValue, NotFound
from modelyard.services import data, jobs, models
from modelyard.services.job_file import load_job_file
from modelyard.services.run_files import JOB_SPEC
from modelyard.services.workspaces import OpenWorkspace


def _images(root: Path, count: int = 3, extra: bytes = b"") -> Path:
    for index in range(count):
        label = root / ("cat" if index % 2 else "dog")
        label.mkdir(parents=True, exist_ok=True)
        (label / f"{index}.png").write_bytes(b"png" * (index + 1) + extra)
    return root


def _age(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            stat = file.stat()
            os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns - 60 * 10**9))


def _create(ws: OpenWorkspace, path: Path, name: str = "flowers", **fields: object):  # type: ignore[no-untyped-def]
    request = DataVersionRequest(name, **fields)  # type: ignore[arg-type]
    return data.create_data(ws, path, request, user="ana")


def test_same_content_is_the_same_version_and_a_changed_byte_a_new_one(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _images(tmp_path / "flowers")
    first = _create(workspace, folder, description="the first", tags={"src": "camera"})
    assert first.created and first.version.version == 1
    assert first.version.parent_version is None and first.version.created_by == "ana"
    assert (first.version.file_count, first.version.total_bytes) == (3, 3 + 6 + 9)
    assert first.version.tags == {"src": "camera"}

    same = _create(workspace, _images(tmp_path / "copy"))  # elsewhere, same files
    assert not same.created and same.version == first.version

    (folder / "dog" / "0.png").write_bytes(b"pnG")
    second = _create(workspace, folder)
    assert second.created and second.version.version == 2
    assert second.version.parent_version == 1
    assert second.version.content_hash != first.version.content_hash
    assert [v.version for v in data.list_versions(workspace, "flowers")] == [2, 1]
    assert data.get_asset(workspace, "flowers").latest_version == 2


def test_a_version_is_a_copy_the_users_folder_can_no_longer_change(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _images(tmp_path / "flowers")
    version = _create(workspace, folder).version
    (folder / "dog" / "0.png").write_bytes(b"changed later")
    (folder / "cat" / "1.png").unlink()
    path = data.data_path(workspace, "data:flowers:1")
    assert (path / "dog" / "0.png").read_bytes() == b"png"
    assert (path / "cat" / "1.png").read_bytes() == b"pngpng"
    assert oct((path / "dog" / "0.png").stat().st_mode & 0o777) == "0o444"
    manifest = data.read_manifest(workspace, version)
    assert [e.relpath for e in manifest.entries] == ["cat/1.png", "dog/0.png", "dog/2.png"]


def test_re_versioning_an_unchanged_folder_reads_no_file(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _images(tmp_path / "flowers", count=6)
    _age(folder)
    first = _create(workspace, folder)
    assert (first.hashed, first.cached) == (6, 0)
    again = _create(workspace, folder)
    assert (again.hashed, again.cached, again.created) == (0, 6, False)
    # Rewritten in place with its size, inode and mtime kept: only --verify reads it.
    target = folder / "dog" / "0.png"
    stat = target.stat()
    with open(target, "r+b") as handle:
        handle.write(b"PNG")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not _create(workspace, folder).created
    verified = data.create_data(workspace, folder, DataVersionRequest("flowers"), verify=True)
    assert verified.created and verified.hashed == 6 and verified.version.version == 2
    assert (data.data_path(workspace, "flowers:2") / "dog" / "0.png").read_bytes() == b"PNG"


def test_a_file_asset_is_its_one_file(workspace: OpenWorkspace, tmp_path: Path) -> None:
    table = tmp_path / "iris.csv"
    table.write_text("a,b\n1,2\n")
    version = _create(workspace, table, name="iris", type=DataType.URI_FILE).version
    assert version.type is DataType.URI_FILE
    path = data.data_path(workspace, "azureml:iris@latest")
    assert path.name == "iris.csv" and path.read_text() == "a,b\n1,2\n"
    with pytest.raises(InvalidValue, match="--type uri_file with folder"):
        _create(workspace, _images(tmp_path / "folder"), name="iris", type=DataType.URI_FILE)


def test_archived_versions_leave_latest_but_stay_readable(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _images(tmp_path / "flowers")
    _create(workspace, folder)
    _create(workspace, _images(tmp_path / "more", extra=b"!"))
    archived = data.set_archived(workspace, "flowers:2", True)
    assert archived.archived  # type: ignore[union-attr]
    assert data.get_data_version(workspace, "data:flowers@latest").version == 1
    assert data.get_data_version(workspace, "data:flowers:2").archived
    assert [v.version for v in data.list_versions(workspace, "flowers")] == [1]
    assert [v.version for v in data.list_versions(workspace, "flowers", True)] == [2, 1]
    # Content equal to an archived version makes a new one: the archived stays archived.
    third = _create(workspace, tmp_path / "more")
    assert third.created and third.version.version == 3 and third.version.parent_version == 1
    data.set_archived(workspace, "flowers", True)
    assert data.list_assets(workspace) == []
    assert [a.name for a in data.list_assets(workspace, True)] == ["flowers"]
    data.set_archived(workspace, "flowers", False)
    assert [a.name for a in data.list_assets(workspace)] == ["flowers"]


def test_an_asset_lists_with_its_latest_versions_type_and_description(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    _create(workspace, _images(tmp_path / "flowers"), description="camera roll")
    table = tmp_path / "petals.csv"
    table.write_text("a,b\n1,2\n")
    _create(workspace, table, type=DataType.URI_FILE, description="one table")
    [asset] = data.list_assets(workspace)
    assert (asset.latest_version, asset.latest_type) == (2, DataType.URI_FILE)
    assert asset.latest_description == "one table"
    # Archiving the latest moves what the list shows back to the version before it.
    data.set_archived(workspace, "flowers:2", True)
    asset = data.get_asset(workspace, "flowers")
    assert (asset.latest_version, asset.latest_type) == (1, DataType.URI_FOLDER)
    assert asset.latest_description == "camera roll"
    assert type(asset).from_dict(asset.to_dict()) == asset


def test_download_writes_a_new_folder_all_or_nothing(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    _create(workspace, _images(tmp_path / "flowers"))
    data.download(workspace, "flowers", tmp_path / "out")
    assert (tmp_path / "out" / "dog" / "2.png").read_bytes() == b"pngpngpng"
    with pytest.raises(AlreadyExists, match="already exists and is not an empty folder"):
        data.download(workspace, "flowers", tmp_path / "out")


def test_unknown_assets_and_versions_are_one_line(workspace: OpenWorkspace, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="data asset 'nope' not found"):
        data.get_data_version(workspace, "data:nope@latest")
    _create(workspace, _images(tmp_path / "flowers"))
    with pytest.raises(NotFound, match="has no version 7: its versions are 1"):
        data.get_data_version(workspace, "data:flowers:7")
    data.set_archived(workspace, "flowers:1", True)
    with pytest.raises(NotFound, match="has no version that is not archived"):
        data.get_data_version(workspace, "flowers")


READS_ITS_INPUT = """
import os, sys
folder, epochs = sys.argv[1], sys.argv[2]
print("files:", ",".join(sorted(os.listdir(os.path.join(folder, "dog")))), "epochs:", epochs)
os.makedirs("outputs", exist_ok=True)
open("outputs/model.bin", "wb").write(open(os.path.join(folder, "dog", "0.png"), "rb").read())
"""

JOB_FILE = """
experiment_name: data-jobs
command: python read.py ${{inputs.training_data}} ${{inputs.epochs}}
inputs:
  training_data:
    type: uri_folder
    path: data:flowers@latest
  epochs: 3
"""


def test_a_job_reads_the_version_its_input_names_and_lineage_follows(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    _create(workspace, _images(tmp_path / "flowers"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "read.py").write_text(textwrap.dedent(READS_ITS_INPUT))
    (project / "job.yml").write_text(JOB_FILE)
    run = jobs.submit(workspace, load_job_file(project / "job.yml"))
    log = "".join(jobs.follow_log(workspace, run.id))
    assert workspace.store.get_run(run.id).status is RunStatus.COMPLETED, log
    assert "files: 0.png,2.png epochs: 3" in log
    assert data.list_run_inputs(workspace, run.id) == [
        RunInput(run.id, "training_data", "flowers", 1)
    ]
    spec = json.loads((workspace.local_artifacts.run_root(run.id) / JOB_SPEC).read_text())
    assert spec["arguments"] == [str(data.data_path(workspace, "flowers:1")), "3"]

    model = models.register_run_model(workspace, run.id, ModelVersionRequest("classifier"))
    _create(workspace, _images(tmp_path / "later", extra=b"2"))  # version 2: read by no run
    found = data.lineage(workspace, "data:flowers:1")
    assert [(r["run_id"], r["input_name"], r["status"]) for r in found.runs] == [
        (run.id, "training_data", "Completed")
    ]
    assert found.models == ({"name": "classifier", "version": model.version, "run_id": run.id},)
    assert found.deployments == ()
    assert data.lineage(workspace, "flowers").runs == ()


def test_job_inputs_are_refused_before_any_run(workspace: OpenWorkspace, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "read.py").write_text("print(1)")
    (project / "job.yml").write_text(JOB_FILE.replace("epochs: 3", "other: 3"))
    with pytest.raises(InvalidValue, match=r"uses \$\{\{inputs.epochs\}\}, but the inputs"):
        load_job_file(project / "job.yml")
    (project / "job.yml").write_text(JOB_FILE)
    with pytest.raises(NotFound, match="data asset 'flowers' not found"):
        jobs.submit(workspace, load_job_file(project / "job.yml"))
    assert workspace.store.list_runs() == []


def test_an_empty_folder_is_nothing_to_version(workspace: OpenWorkspace, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidValue, match="holds no files: nothing to version"):
        _create(workspace, tmp_path / "empty")
    assert data.list_assets(workspace) == []


def test_an_upload_unlike_what_the_client_hashed_stores_nothing(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _images(tmp_path / "arrived")
    request = DataVersionRequest("flowers")
    with pytest.raises(InvalidValue, match="a file changed while it was sent"):
        data.create_uploaded(workspace, folder, request, "ana", expected_hash="0" * 64)
    as_file = DataVersionRequest("flowers", DataType.URI_FILE)
    with pytest.raises(InvalidValue, match="a uri_file version holds one file, not 3"):
        data.create_uploaded(workspace, folder, as_file, "ana")
    assert data.list_assets(workspace) == []
