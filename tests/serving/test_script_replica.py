"""A user's entry script (Azure's init()/run() contract) served by a real replica; faults that
must not stop the replica; keys rotated through the file; start-up refusals in one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from replicas import Replica, free_port, replica_command, replica_env, running_replica, write_keys

from modelyard.serving.config import ReplicaConfig
from modelyard.serving.entry_script import AZURE_MODEL_DIR_ENV, MODEL_DIR_ENV, MODULE_NAME
from modelyard.serving.preflight import preflight

pytest_plugins = ["vision.conftest"]

SCORE_PY = """
import json
import os

from helpers import double  # a neighbour in the source directory

model = None


def init():
    global model
    assert os.environ["MODELYARD_MODEL_DIR"] == os.environ["AZUREML_MODEL_DIR"]
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.json")) as weights:
        model = json.load(weights)


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("boom"):
        explode_inside_run(data)
    if data.get("set"):
        return {1, 2}
    result = [double(x) * model["scale"] for x in data["data"]]
    return {"result": result, "type": type(raw_data).__name__}


def explode_inside_run(data):
    raise ValueError("the model cannot take this: " + str(data["boom"]))
"""


@pytest.fixture(autouse=True)
def _in_process_preflight_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-process preflight sets the model variables, puts the source directory on sys.path
    and imports the script and its neighbours: all undone after each test."""
    for name in (MODEL_DIR_ENV, AZURE_MODEL_DIR_ENV):
        monkeypatch.setenv(name, "")
    monkeypatch.setattr(sys, "path", list(sys.path))
    for module in (MODULE_NAME, "helpers"):
        monkeypatch.setitem(sys.modules, module, None)
        monkeypatch.delitem(sys.modules, module)


@pytest.fixture(scope="module")
def script_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model folder, source directory with score.py and the module it imports)."""
    model = tmp_path_factory.mktemp("script-model")
    (model / "weights.json").write_text(json.dumps({"scale": 10}))
    source = tmp_path_factory.mktemp("source")
    (source / "score.py").write_text(SCORE_PY)
    (source / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    return model, source


@pytest.fixture(scope="module")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    write_keys(path, "first-primary", "first-secondary")
    return path


@pytest.fixture(scope="module")
def replica(
    script_project: tuple[Path, Path], keys_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replica]:
    model, source = script_project
    log = tmp_path_factory.mktemp("log") / "replica.log"
    with running_replica(
        log, "--model-dir", model, "--entry-script", "score.py", "--source-directory", source,
        "--keys-file", keys_file,
    ) as running:  # fmt: skip
        yield running


def post(replica: Replica, body: object, key: str = "first-secondary") -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(f"{replica.url}/score", json=body, headers=headers, timeout=30)


def test_run_gets_the_body_as_text_and_its_answer_is_returned(replica: Replica) -> None:
    answer = post(replica, {"data": [1, 2, 3]})
    assert answer.status_code == 200
    assert answer.json() == {"result": [20, 40, 60], "type": "str"}


def test_an_exception_in_run_is_a_500_with_a_request_id_and_the_replica_serves_on(
    replica: Replica,
) -> None:
    failed = post(replica, {"boom": "negative size"})
    assert failed.status_code == 500
    request_id = failed.json()["request_id"]
    assert request_id == failed.headers["x-request-id"]
    assert "ValueError: the model cannot take this: negative size" in failed.json()["message"]
    assert request_id in failed.json()["message"]
    log = replica.log()
    assert f"request {request_id} failed:\nTraceback" in log
    assert "in explode_inside_run" in log and "score.py" in log
    assert post(replica, {"data": [5]}).json()["result"] == [100]


def test_an_answer_that_is_not_json_is_a_500_not_a_dead_replica(replica: Replica) -> None:
    failed = post(replica, {"set": True})
    assert failed.status_code == 500 and "not JSON-serialisable" in failed.json()["message"]
    assert post(replica, {"data": [1]}).status_code == 200


def test_a_regenerated_key_takes_effect_at_once(replica: Replica, keys_file: Path) -> None:
    assert post(replica, {"data": [1]}, key="first-primary").status_code == 200
    write_keys(keys_file, "second-primary", "first-secondary")  # regen-key primary
    assert post(replica, {"data": [1]}, key="first-primary").status_code == 401
    assert post(replica, {"data": [1]}, key="second-primary").status_code == 200
    assert post(replica, {"data": [1]}, key="first-secondary").status_code == 200
    keys_file.unlink()  # no keys file: nothing is accepted, never an open service
    assert post(replica, {"data": [1]}, key="second-primary").status_code == 401
    write_keys(keys_file, "first-primary", "first-secondary")


def test_the_swagger_of_a_script_takes_any_json(replica: Replica) -> None:
    swagger = httpx.get(f"{replica.url}/swagger.json").json()
    assert "run(raw_data) of score.py" in swagger["paths"]["/score"]["post"]["description"]


def test_init_failing_ends_the_replica_with_its_traceback(
    script_project: tuple[Path, Path], tmp_path: Path
) -> None:
    _, source = script_project
    empty_model = tmp_path / "no-weights"
    empty_model.mkdir()
    done = subprocess.run(
        replica_command(
            "--model-dir", empty_model, "--entry-script", "score.py", "--source-directory", source,
            "--no-auth", "--port", str(free_port()),
        ),
        env=replica_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3
    assert "init() failed" in done.stderr and "FileNotFoundError" in done.stderr
    assert "weights.json" in done.stderr


def test_a_port_in_use_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            replica_command("--model-dir", tmp_path, "--no-auth", "--port", str(port)),
            env=replica_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: port {port} on 127.0.0.1 is in use; fix: pick another --port or stop what holds it"
    )
    assert "Traceback" not in done.stderr


def test_key_auth_without_any_key_refuses_to_start(tmp_path: Path) -> None:
    env = replica_env()
    env.pop("MODELYARD_SCORING_PRIMARY_KEY", None)
    done = subprocess.run(
        replica_command("--model-dir", tmp_path, "--port", str(free_port())),
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "key auth is on but no key was given" in done.stderr


def test_preflight_passes_a_good_script_and_answers_its_sample(
    script_project: tuple[Path, Path],
) -> None:
    model, source = script_project
    config = ReplicaConfig(model, Path("score.py"), source)
    result = preflight(config, json.dumps({"data": [2]}).encode(), "application/json")
    assert result.ok and result.answer == {"result": [40], "type": "str"}


def test_preflight_returns_the_real_traceback_of_run(script_project: tuple[Path, Path]) -> None:
    model, source = script_project
    result = preflight(ReplicaConfig(model, Path("score.py"), source), b'{"boom": "bad"}')
    assert not result.ok and result.stage == "request"
    assert (
        result.message == "the sample request failed: ValueError: the model cannot take this: bad"
    )
    assert result.traceback is not None and "in explode_inside_run" in result.traceback


def test_preflight_returns_the_real_traceback_of_init(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "score.py").write_text(
        textwrap.dedent(
            """
            def init():
                import no_such_dependency_here

            def run(raw_data):
                return raw_data
            """
        )
    )
    result = preflight(ReplicaConfig(tmp_path, Path("score.py"), source), b"{}")
    assert not result.ok and result.stage == "init"
    assert "ModuleNotFoundError" in result.message and "no_such_dependency_here" in result.message
    assert result.traceback is not None and 'score.py", line 3, in init' in result.traceback


def test_preflight_of_the_image_scorer_scores_a_sample_image(model_builder_dir: Path) -> None:
    result = preflight(ReplicaConfig(model_builder_dir))
    assert result.ok and result.stage == "request"
    assert set(result.answer) == {"Prediction", "Score"}


def test_preflight_of_a_folder_without_a_model_says_so(tmp_path: Path) -> None:
    result = preflight(ReplicaConfig(tmp_path))
    assert not result.ok and result.stage == "init"
    assert "holds neither MLModel.zip nor bestModel.onnx" in result.message
