"""`Model` in Azure ML's v1 SDK words, on SQLite and PostgreSQL: register, `run.register_model`,
`Model(ws, name, version=)`, `Model.list`, `ws.models`, `download`, `add_tags`,
`add_properties`, and `Model.get_model_path` in and out of a scoring replica."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard import Conflict, Experiment, Model, NotFound, Run, Workspace


@pytest.fixture
def ws(tmp_path: Path, store_uri: str) -> Iterator[Workspace]:
    workspace = Workspace.create("sdk-ws", path=tmp_path / "ws", store_uri=store_uri)
    yield workspace
    workspace.close()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.pkl.txt").write_text("weights")
    (folder / "vocab.json").write_text("[]")
    return folder


def test_register_get_list_tag_and_download(ws: Workspace, tmp_path: Path) -> None:
    model = Model.register(
        ws,
        model_path=_folder(tmp_path),
        model_name="sentiment",
        tags={"area": "nlp"},
        properties={"accuracy": 0.91},
        description="first try",
    )
    assert (model.name, model.version, model.id) == ("sentiment", 1, "sentiment:1")
    assert (model.tags, model.properties) == ({"area": "nlp"}, {"accuracy": "0.91"})
    Model.register(ws, tmp_path / "model" / "vocab.json", "sentiment")

    assert Model(ws, "sentiment").version == 2
    assert Model(ws, "sentiment", version=1).description == "first try"
    assert [m.id for m in Model.list(ws)] == ["sentiment:2"]
    assert [m.version for m in Model.list(ws, name="sentiment")] == [2, 1]
    assert list(ws.models) == ["sentiment"]

    model.add_tags({"stage": "prod"})
    model.add_properties({"f1": 0.8})
    with pytest.raises(Conflict, match="properties are add-only"):
        model.add_properties({"accuracy": 0.99})
    model.set_alias("champion")
    again = Model(ws, "sentiment@champion")
    assert again.version == 1 and again.aliases == ["champion"]
    assert again.tags == {"area": "nlp", "stage": "prod"}
    assert again.properties == {"accuracy": "0.91", "f1": "0.8"}

    target = tmp_path / "downloaded"
    assert model.download(target) == str(target)
    assert (target / "model.pkl.txt").read_text() == "weights"
    single = Model(ws, "sentiment", version=2).download(tmp_path / "one")
    assert single == str(tmp_path / "one" / "vocab.json")

    with pytest.raises(NotFound, match="has no version 5"):
        Model(ws, "sentiment", version=5)
    model.delete()
    with pytest.raises(NotFound, match="has no alias 'champion'"):
        Model(ws, "sentiment@champion")


def test_a_run_registers_its_outputs_as_its_lineage(ws: Workspace, tmp_path: Path) -> None:
    run = Run.start_interactive(Experiment(ws, "exp"))
    run.upload_file("outputs/model.onnx", _folder(tmp_path) / "vocab.json")
    model = run.register_model("from-run", "outputs", tags={"t": "1"})
    run.complete()
    assert model.run_id == run.id and model.lineage.experiment == "exp"
    assert model.tags == {"t": "1"}


def test_get_model_path_materialises_outside_a_deployment(ws: Workspace, tmp_path: Path) -> None:
    Model.register(ws, _folder(tmp_path), "m")
    Model.register(ws, tmp_path / "model" / "vocab.json", "single")
    folder = Path(Model.get_model_path("m", _workspace=ws))
    assert sorted(p.name for p in folder.iterdir()) == ["model.pkl.txt", "vocab.json"]
    assert Model.get_model_path("single", _workspace=ws).endswith("vocab.json")
    with pytest.raises(Exception, match="needs the workspace"):
        Model.get_model_path("m")


def test_get_model_path_inside_a_scoring_replica_reads_the_deployed_folder(
    tmp_path: Path,
) -> None:
    deployed = tmp_path / "deployed"
    deployed.mkdir()
    (deployed / "model.onnx").write_bytes(b"onnx")
    script = textwrap.dedent(
        """
        from modelyard import Model
        print(Model.get_model_path("anything"))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "MODELYARD_MODEL_DIR": str(deployed)},
        check=True,
    )
    assert result.stdout.strip() == str(deployed / "model.onnx")
