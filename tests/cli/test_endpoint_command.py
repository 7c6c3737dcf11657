"""`modelyard deploy` and `modelyard endpoint …` as a user types them: real subprocesses,
real replicas, real HTTP on 127.0.0.1. The endpoint outlives the CLI that deployed it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.commands import home_of_its_own, modelyard

SCORE_PY = """
import json, os

def init():
    global factor
    with open(os.path.join(os.environ["MODELYARD_MODEL_DIR"], "weights.json")) as f:
        factor = json.load(f)["factor"]
    if factor < 0:
        raise ValueError(f"factor {factor} is negative")

def run(raw_data):
    return {"y": factor * json.loads(raw_data)["x"]}
"""


def _created_project(folder: Path) -> Iterator[Path]:
    folder.mkdir()
    modelyard("workspace", "create", "deploy-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    (folder / "score.py").write_text(SCORE_PY)
    for factor in (2, 10, -1):
        model = folder / f"model{factor}"
        model.mkdir()
        (model / "weights.json").write_text(json.dumps({"factor": factor}))
    try:
        yield folder
    finally:  # stop whatever the tests left running, by the handles the workspace recorded
        for endpoint in _json(folder, "endpoint", "list"):
            modelyard("endpoint", "delete", endpoint["name"], "--yes", cwd=folder)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield from _created_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One project for the refusals, `double` registered from model2: each deploys and changes
    nothing (one that did would fail), so they share it."""
    with home_of_its_own(tmp_path_factory):
        for folder in _created_project(tmp_path_factory.mktemp("refusing") / "project"):
            _register(folder, 2)
            yield folder


RAY_DEPLOY = ["deploy", "doubler", "--model", "double", "--compute", "gpu"]


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _register(project: Path, factor: int) -> None:
    modelyard("model", "register", f"model{factor}", "--name", "double", cwd=project)


def _score(uri: str, key: str, x: int = 3) -> httpx.Response:
    return httpx.post(
        uri, content=json.dumps({"x": x}), headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def test_deploy_call_regen_key_update_and_delete(project: Path) -> None:
    _register(project, 2)
    _register(project, 10)
    shown = _json(
        project, "deploy", "doubler", "--model", "double:1", "--deployment", "blue",
        "--entry-script", "score.py", "--source-directory", ".", "--replicas", "2",
    )  # fmt: skip
    keys = _json(project, "endpoint", "get-keys", "doubler")

    assert shown["traffic"] == {"blue": 100}
    assert shown["deployments"][0]["resolved_model"] == "double:1"
    assert _score(shown["scoring_uri"], keys["primaryKey"]).json() == {"y": 6}
    (project / "request.json").write_text('{"x": 5}')
    invoked = modelyard("endpoint", "invoke", "doubler", "--request-file", "request.json",
                        cwd=project)  # fmt: skip
    assert json.loads(invoked.stdout) == {"y": 10}

    new = _json(project, "endpoint", "regen-key", "doubler", "--key-type", "secondary")
    assert _score(shown["scoring_uri"], keys["secondaryKey"]).status_code == 401
    assert _score(shown["scoring_uri"], new["secondaryKey"]).status_code == 200

    _json(project, "endpoint", "update", "doubler", "--deployment", "blue", "--model", "double:2")
    assert _score(shown["scoring_uri"], keys["primaryKey"]).json() == {"y": 30}
    assert "blue-0.log" in modelyard("endpoint", "logs", "doubler", cwd=project).stdout

    modelyard("endpoint", "delete", "doubler", "--yes", cwd=project)
    assert _json(project, "endpoint", "list") == []
    with pytest.raises(httpx.ConnectError):
        _score(shown["scoring_uri"], keys["primaryKey"])


def test_a_failing_init_prints_its_traceback_and_deploys_nothing(project: Path) -> None:
    _register(project, -1)

    failed = modelyard(
        "deploy", "doubler", "--model", "double", "--entry-script", "score.py",
        "--source-directory", ".", cwd=project, check=False,
    )  # fmt: skip

    assert failed.returncode == 1
    assert failed.stderr.startswith("error: deployment default failed its preflight: init()")
    assert "ValueError: factor -1 is negative" in failed.stderr
    assert "Traceback" in failed.stderr
    shown = _json(project, "endpoint", "show", "doubler")
    assert shown["deployments"][0]["state"] == "Failed"
    assert shown["deployments"][0]["replica_handles"] == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["deploy", "doubler", "--model", "double:9"], "version 9"),
        (["deploy", "x", "--model", "double"], "invalid endpoint name 'x'"),
        (["deploy", "doubler", "--model", "double", "--compute", "gpu"], "compute 'gpu' not found"),
        (["deploy", "doubler", "--model", "double", "--max-replicas", "2"], "needs a ray compute"),
        (
            ["deploy", "doubler", "--model", "double", "--compute", "gpu", "--min-replicas", "2"],
            "need --max-replicas",
        ),
        (
            [*RAY_DEPLOY, "--min-replicas", "3", "--max-replicas", "2"],
            "--min-replicas 3 must be 0–2 (--max-replicas)",
        ),
        (
            [*RAY_DEPLOY, "--max-replicas", "2", "--target-ongoing-requests", "0"],
            "--target-ongoing-requests must be above 0",
        ),
        ([*RAY_DEPLOY, "--max-replicas", "2", "--replicas", "3"], "not both"),
        (["endpoint", "update", "nope", "--traffic", "a=50,b=60"], "not found"),
        (["endpoint", "regen-key", "nope", "--key-type", "primary"], "not found"),
    ],
)
def test_bad_requests_are_one_line(refusing: Path, arguments: list[str], message: str) -> None:
    result = modelyard(*arguments, cwd=refusing, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_traffic_that_does_not_sum_to_100_is_one_line(project: Path) -> None:
    _register(project, 2)
    base = ["--entry-script", "score.py", "--source-directory", "."]
    modelyard("deploy", "doubler", "--model", "double", "--deployment", "blue", *base, cwd=project)
    result = modelyard(
        "endpoint", "update", "doubler", "--traffic", "blue=90,green=20", cwd=project, check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: traffic names deployments that don't exist: green"
    ]
    result = modelyard(
        "endpoint", "update", "doubler", "--traffic", "blue=90", cwd=project, check=False
    )
    assert result.stderr.strip() == "error: traffic must sum to 100, not 90: blue=90"
