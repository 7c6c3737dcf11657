"""The model registry as a service, on real SQLite and PostgreSQL with real files: versions,
immutable content-hashed files, tags, add-only properties, aliases, references, deletion, a
registration from a run with its lineage, concurrency and a failure midway."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.entities.registry import ModelVersionRequest
from modelyard.errors import (
    AlreadyExists,
    Conflict,
    InvalidName,
    InvalidValue,
    NotFound,
    UnsafePath,
)
from modelyard.services import models, runs
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.blobs import BlobStore


def _model_folder(root: Path, weights: bytes = b"weights-1") -> Path:
    folder = root / f"model-{hashlib.sha256(weights).hexdigest()[:8]}"
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    (folder / "model.bin").write_bytes(weights)
    (folder / "sub" / "config.json").write_text('{"layers": 2}')
    return folder


def _register(ws: OpenWorkspace, path: Path, name: str = "flowers", **fields: object):  # type: ignore[no-untyped-def]
    return models.register_model(ws, path, ModelVersionRequest(name, **fields), user="ana")  # type: ignore[arg-type]


def _blob_files(ws: OpenWorkspace) -> list[Path]:
    root = ws.root / models.MODELS_FOLDER
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_versions_count_up_per_name_and_record_each_file_by_hash(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _model_folder(tmp_path)
    first = _register(workspace, folder, description="first", tags={"stage": "dev"})
    second = _register(workspace, _model_folder(tmp_path, b"weights-2"))
    other = _register(workspace, folder, name="other")

    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.created_by == "ana" and first.description == "first"
    assert first.tags == {"stage": "dev"}
    assert [(f.path, f.size) for f in first.files] == [("model.bin", 9), ("sub/config.json", 13)]
    assert first.files[0].sha256 == hashlib.sha256(b"weights-1").hexdigest()
    # The same bytes are one blob, shared by every version holding them.
    assert len(_blob_files(workspace)) == 3
    listed = models.list_models(workspace)
    assert [(m.name, m.latest_version, m.version_count) for m in listed] == [
        ("flowers", 2, 2),
        ("other", 1, 1),
    ]
    assert [v.version for v in models.list_versions(workspace, "flowers")] == [2, 1]


def test_registered_files_do_not_change_when_the_source_does(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _model_folder(tmp_path)
    version = _register(workspace, folder)
    (folder / "model.bin").write_bytes(b"changed afterwards")

    directory = models.model_dir(workspace, "flowers:1")
    assert (directory / "model.bin").read_bytes() == b"weights-1"
    assert (directory / "sub" / "config.json").read_text() == '{"layers": 2}'
    assert not os.stat(directory / "model.bin").st_mode & stat.S_IWUSR  # read-only
    assert models.model_dir(workspace, version.reference) == directory  # materialised once
    blob = BlobStore(workspace.root / "models").path_of(version.files[0].sha256)
    assert not os.stat(blob).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_references_name_the_latest_a_number_or_an_alias(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    _register(workspace, _model_folder(tmp_path))
    _register(workspace, _model_folder(tmp_path, b"weights-2"))
    models.set_alias(workspace, "flowers", "champion", 1)

    assert models.get_model_version(workspace, "flowers").version == 2
    assert models.get_model_version(workspace, "flowers:1").version == 1
    assert models.get_model_version(workspace, "flowers@champion").version == 1
    assert models.get_model_version(workspace, "models:/flowers/2").version == 2
    assert models.get_model_version(workspace, "models:/flowers@champion").version == 1
    assert models.get_model_version(workspace, "flowers:1").aliases == ("champion",)

    models.set_alias(workspace, "flowers", "champion", 2)  # an alias moves
    assert models.get_model_version(workspace, "flowers@champion").version == 2
    assert models.get_model(workspace, "flowers").aliases == {"champion": 2}
    models.delete_alias(workspace, "flowers", "champion")
    with pytest.raises(NotFound, match="has no alias 'champion'"):
        models.get_model_version(workspace, "flowers@champion")


@pytest.mark.parametrize(
    ("reference", "error", "words"),
    [
        ("nope", NotFound, "model 'nope' not found"),
        ("flowers:7", NotFound, "has no version 7: its versions are 1"),
        ("flowers@staging", NotFound, "has no alias 'staging'"),
        ("flowers:x", InvalidValue, "is not a version number"),
        ("bad name", InvalidName, "invalid model name 'bad name'"),
        ("flowers@latest", InvalidName, "invalid alias 'latest'"),
    ],
)
def test_a_bad_reference_is_one_line_naming_it(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, reference: str, error: type, words: str
) -> None:
    _register(sqlite_workspace, _model_folder(tmp_path))
    with pytest.raises(error) as caught:
        models.get_model_version(sqlite_workspace, reference)
    assert words in caught.value.message and "\n" not in caught.value.message


def test_tags_change_properties_are_only_added(workspace: OpenWorkspace, tmp_path: Path) -> None:
    _register(workspace, _model_folder(tmp_path), tags={"a": "1"}, properties={"auc": "0.9"})
    updated = models.update_version(
        workspace,
        "flowers:1",
        set_tags={"b": "2"},
        delete_tags=["a"],
        add_properties={"auc": "0.9", "f1": "0.8"},
        description="better words",
    )
    assert updated.tags == {"b": "2"}
    assert updated.properties == {"auc": "0.9", "f1": "0.8"}
    assert updated.description == "better words"

    with pytest.raises(Conflict, match=r"property 'auc' of model flowers:1 is already '0\.9'"):
        models.update_version(workspace, "flowers:1", add_properties={"auc": "0.95"})
    with pytest.raises(NotFound, match="has no tag 'zzz'"):
        models.update_version(workspace, "flowers:1", delete_tags=["zzz"])
    assert models.get_model_version(workspace, "flowers:1").properties["auc"] == "0.9"


def test_deleting_a_version_takes_its_aliases_and_unshared_files(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folder = _model_folder(tmp_path)
    _register(workspace, folder)
    _register(workspace, _model_folder(tmp_path, b"weights-2"))
    models.set_alias(workspace, "flowers", "champion", 2)
    assert len(_blob_files(workspace)) == 3

    models.delete_version(workspace, "flowers@champion")
    assert models.get_model(workspace, "flowers").aliases == {}
    # weights-2 went; config.json is still version 1's.
    assert len(_blob_files(workspace)) == 2
    third = _register(workspace, folder)
    assert third.version == 3  # numbers are never reused

    models.delete_model(workspace, "flowers")
    assert _blob_files(workspace) == []
    with pytest.raises(NotFound, match="model 'flowers' not found"):
        models.get_model(workspace, "flowers")


def test_download_copies_the_files_and_refuses_to_overwrite(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    _register(workspace, _model_folder(tmp_path))
    written = models.download(workspace, "flowers", tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "model.bin",
        "sub/config.json",
    ]
    assert (tmp_path / "out" / "model.bin").read_bytes() == b"weights-1"
    with pytest.raises(AlreadyExists, match="already exists"):
        models.download(workspace, "flowers", tmp_path / "out")
    models.download(workspace, "flowers", tmp_path / "out", exist_ok=True)


def test_a_single_file_registers_under_its_own_name(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    version = _register(sqlite_workspace, tmp_path / "model.onnx", framework="onnx")
    assert [f.path for f in version.files] == ["model.onnx"] and version.framework == "onnx"


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"name": "has space"}, InvalidName, "invalid model name 'has space'"),
        ({"name": "a:b"}, InvalidName, "invalid model name 'a:b'"),
        ({"tags": {"k": 1}}, InvalidValue, "tag 'k' has a int value"),
        ({"description": "x" * 5001}, InvalidValue, "over the limit of 5000"),
    ],
)
def test_a_bad_request_is_refused_before_anything_is_written(
    sqlite_workspace: OpenWorkspace, tmp_path: Path, fields: dict, error: type, words: str
) -> None:
    arguments = {"name": "flowers", **fields}
    with pytest.raises(error, match=words):
        models.register_model(
            sqlite_workspace,
            _model_folder(tmp_path),
            ModelVersionRequest(**arguments),  # type: ignore[arg-type]
        )
    assert _blob_files(sqlite_workspace) == []


def test_missing_and_empty_paths_are_refused(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="not found"):
        _register(sqlite_workspace, tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidValue, match="holds no files"):
        _register(sqlite_workspace, tmp_path / "empty")


def test_a_registration_failing_midway_leaves_no_version_and_no_files(
    workspace: OpenWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(workspace, _model_folder(tmp_path))  # its blobs must survive the failure
    before = _blob_files(workspace)
    real_put = BlobStore.put_file
    calls = []

    def failing_second_put(self: BlobStore, source: Path) -> tuple[str, int, bool]:
        calls.append(source)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real_put(self, source)

    monkeypatch.setattr(BlobStore, "put_file", failing_second_put)
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"new bytes a")
    (folder / "b.bin").write_bytes(b"new bytes b")
    with pytest.raises(OSError, match="Input/output error"):
        _register(workspace, folder)

    assert _blob_files(workspace) == before
    assert [v.version for v in models.list_versions(workspace, "flowers")] == [1]


def test_concurrent_registrations_get_distinct_consecutive_versions(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    folders = [_model_folder(tmp_path, f"weights-{i}".encode()) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(lambda folder: _register(workspace, folder), folders))
    assert sorted(v.version for v in versions) == list(range(1, 9))
    by_version = {v.version: v.files[0].sha256 for v in versions}
    for number, sha in by_version.items():
        assert models.get_model_version(workspace, f"flowers:{number}").files[0].sha256 == sha


def test_a_runs_outputs_register_with_the_run_as_lineage(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    run = runs.start_interactive_run(workspace, "flowers-exp", user="ana")
    workspace.store.add_properties(run.id, {"data_content_hash": "abc123"})
    workspace.artifacts.put_bytes(run.id, "outputs/model.bin", b"trained")
    workspace.artifacts.put_bytes(run.id, "logs/log.txt", b"not the model")
    runs.end_run(workspace, run.id, RunStatus.COMPLETED)

    version = models.register_run_model(workspace, run.id, ModelVersionRequest("flowers"))
    assert [f.path for f in version.files] == ["model.bin"]
    assert version.lineage.to_dict() == {
        "run_id": run.id,
        "experiment": "flowers-exp",
        "data_hash": "abc123",
    }
    with pytest.raises(NotFound, match="has no artifact 'outputs/other'"):
        models.register_run_model(workspace, run.id, ModelVersionRequest("f"), "outputs/other")
    with pytest.raises(UnsafePath):
        models.register_run_model(workspace, run.id, ModelVersionRequest("f"), "../x")


def test_the_sweep_collects_old_blobs_no_version_uses(
    workspace: OpenWorkspace, tmp_path: Path
) -> None:
    from modelyard.services import leftovers

    kept = _register(workspace, _model_folder(tmp_path))
    blobs = models.blob_store(workspace)
    orphan, _size, _created = blobs.put_stream([b"a registration killed before its row"])
    long_ago = 0
    for blob in _blob_files(workspace):
        os.utime(blob, (long_ago, long_ago))

    swept = leftovers.sweep(workspace)
    assert swept.model_blobs == [orphan]
    assert not blobs.has(orphan)
    assert all(blobs.has(file.sha256) for file in kept.files)
