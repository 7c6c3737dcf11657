"""Data assets through the SDK in Azure's two shapes: v2's `Data` with `ws.data`, and v1's
`Dataset.File.from_files(...).register(...)` / `Dataset.get_by_name(...)`."""

from __future__ import annotations

from pathlib import Path

import pytest

import modelyard
from modelyard import Data, Dataset, Workspace
from modelyard.errors import InvalidValue, NotFound


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.create("sdk-data", path=tmp_path / "ws")
    yield workspace  # type: ignore[misc]
    workspace.close()


def _folder(root: Path, text: str = "one") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.txt").write_text(text)
    return root


def test_data_and_dataset_are_public() -> None:
    assert {"Data", "Dataset"} <= set(modelyard.__all__)


def test_v2_data_create_get_list_archive(ws: Workspace, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "flowers")
    created = ws.data.create_or_update(Data(name="flowers", path=folder, description="d"))
    assert (created.version, created.created, created.id) == ("1", True, "azureml:flowers:1")
    assert Path(created.path or "").joinpath("a.txt").read_text() == "one"
    unchanged = ws.data.create_or_update(Data(name="flowers", path=folder))
    assert (unchanged.version, unchanged.created) == ("1", False)
    _folder(folder, "two")
    second = ws.data.create_or_update(Data(name="flowers", path=folder))
    assert (second.version, second.parent_version) == ("2", 1)
    assert ws.data.get("flowers", label="latest").version == "2"
    assert ws.data.get("flowers", version=1).content_hash == created.content_hash
    assert [d.version for d in ws.data.list(name="flowers")] == ["2", "1"]
    assert [d.name for d in ws.data.list()] == ["flowers"]
    ws.data.archive("flowers", version=2)
    assert ws.data.get("flowers").version == "1"
    ws.data.restore("flowers", version=2)
    second.download(tmp_path / "out")
    assert (tmp_path / "out" / "a.txt").read_text() == "two"
    with pytest.raises(InvalidValue, match="versions are numbered by the workspace"):
        ws.data.create_or_update(Data(name="flowers", path=folder, version=7))
    with pytest.raises(NotFound, match="data asset 'nope' not found"):
        ws.data.get("nope")


def test_v1_dataset_register_and_get_by_name(ws: Workspace, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "images")
    dataset = Dataset.File.from_files(folder).register(ws, "images", tags={"k": 1})
    assert (dataset.name, dataset.version, dataset.tags) == ("images", 1, {"k": "1"})
    got = Dataset.get_by_name(ws, "images", version="latest")
    assert got.to_path() == ["/a.txt"]
    assert got.download(tmp_path / "got") == [str(tmp_path / "got" / "a.txt")]
    assert Path(got.as_local_path(), "a.txt").read_text() == "one"
    assert Dataset.get_by_name(ws, "images", version=1).id == got.id
