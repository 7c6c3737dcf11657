"""The no-code image scorer as a real replica process: every way to send an image, batching,
keys, bad input, and a replica that imports neither torch nor onnx."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from replicas import Replica, metric_value, png_bytes, replica_command, replica_env, running_replica

from modelyard.predict import load
from vision.conftest import TINY_LABELS

pytest_plugins = ["vision.conftest"]

KEY = "primary-key-0123"
SECOND_KEY = "secondary-key-4567"
AUTH = {"Authorization": f"Bearer {KEY}"}
HEADER_TIMEOUT_S = 1.0
BODY_LIMIT_MB = 0.05  # 52,428 bytes: the test images are far smaller
RED = png_bytes((220, 30, 30))
GREEN = png_bytes((30, 200, 40), (64, 120))
JSON = {"Content-Type": "application/json"}
PNG = {"Content-Type": "image/png"}


@pytest.fixture(scope="module")
def replica(model_builder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    folder = tmp_path_factory.mktemp("replica")
    keys = folder / "keys.json"
    keys.write_text(json.dumps({"primaryKey": KEY, "secondaryKey": SECOND_KEY}))
    # A wait bound long enough that concurrent requests surely meet in one batch.
    with running_replica(
        folder / "replica.log",
        "--model-dir", model_builder_dir, "--keys-file", keys,
        "--max-wait-ms", "100", "--max-body-mb", str(BODY_LIMIT_MB),
        "--header-timeout-s", str(HEADER_TIMEOUT_S),
    ) as running:  # fmt: skip
        yield running


def score(
    replica: Replica, headers: dict[str, str] | None = None, **request: object
) -> httpx.Response:
    return httpx.post(
        f"{replica.url}/score", headers={**AUTH, **(headers or {})}, timeout=30, **request
    )  # type: ignore[arg-type]


def expected(model_dir: Path, image: bytes, tmp_path: Path) -> dict[str, object]:
    """What modelyard.predict answers for the same image, in the ModelOutput shape."""
    path = tmp_path / "image.png"
    path.write_bytes(image)
    predictor = load(model_dir / "MLModel.zip")
    output = predictor.predict(str(path))
    return {
        "Prediction": output.Prediction,
        "Score": dict(zip(predictor.labels, output.Score, strict=True)),
    }


def assert_same_output(answer: dict[str, object], wanted: dict[str, object]) -> None:
    assert answer["Prediction"] == wanted["Prediction"]
    assert answer["Score"] == pytest.approx(wanted["Score"], rel=1e-5)


def test_raw_image_bytes_are_answered_as_model_builder_would(
    replica: Replica, model_builder_dir: Path, tmp_path: Path
) -> None:
    answer = score(replica, {"Content-Type": "image/png"}, content=RED)
    assert answer.status_code == 200 and answer.headers["x-request-id"]
    assert list(answer.json()["Score"]) == TINY_LABELS
    assert sum(answer.json()["Score"].values()) == pytest.approx(1)
    assert_same_output(answer.json(), expected(model_builder_dir, RED, tmp_path))
    octets = score(replica, {"Content-Type": "application/octet-stream"}, content=RED)
    assert octets.json() == answer.json()


def test_multipart_files_one_answer_per_file(
    replica: Replica, model_builder_dir: Path, tmp_path: Path
) -> None:
    one = score(replica, files={"file": ("red.png", RED, "image/png")})
    assert_same_output(one.json(), expected(model_builder_dir, RED, tmp_path))
    files = [("file", ("red.png", RED, "image/png")), ("file", ("green.png", GREEN, "image/png"))]
    two = score(replica, files=files)
    assert two.status_code == 200 and isinstance(two.json(), list)
    assert_same_output(two.json()[0], expected(model_builder_dir, RED, tmp_path))
    assert_same_output(two.json()[1], expected(model_builder_dir, GREEN, tmp_path))


def test_json_base64_one_image_a_list_or_data(replica: Replica) -> None:
    red, green = (base64.b64encode(image).decode() for image in (RED, GREEN))
    single = score(replica, json={"ImageSource": red}).json()
    listed = score(replica, json=[{"ImageSource": red}, {"ImageSource": green}]).json()
    data = score(replica, json={"data": [{"ImageSource": green}]}).json()
    uri = score(replica, json={"ImageSource": f"data:image/png;base64,{red}"}).json()
    assert isinstance(single, dict) and single == uri
    assert listed[0] == single and len(listed) == 2
    assert data == [listed[1]]


def test_the_onnx_and_label_map_alone_are_served_too_with_request_logging_on(
    onnx_only_dir: Path, model_builder_dir: Path, tmp_path: Path
) -> None:
    args = ("--model-dir", onnx_only_dir, "--no-auth", "--log-requests")
    with running_replica(tmp_path / "log", *args) as alone:
        answer = httpx.post(f"{alone.url}/score", content=GREEN, headers=PNG)
        log = alone.log()
    assert_same_output(answer.json(), expected(model_builder_dir, GREEN, tmp_path))
    request_id = answer.headers["x-request-id"]
    assert f"request {request_id} POST /score -> 200" in log and '"Prediction"' in log


def test_request_logging_is_off_by_default(replica: Replica) -> None:
    answer = score(replica, PNG, content=RED)
    assert answer.status_code == 200
    assert answer.headers["x-request-id"] not in replica.log()


def test_concurrent_requests_are_batched_into_one_model_call(replica: Replica) -> None:
    before = httpx.get(f"{replica.url}/metrics").text

    async def sixteen_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as client:
            posts = [
                client.post(
                    f"{replica.url}/score", content=RED, headers={"Content-Type": "image/png"}
                )
                for _ in range(16)
            ]
            return await asyncio.gather(*posts)

    answers = asyncio.run(sixteen_at_once())
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.text for answer in answers}) == 1
    after = httpx.get(f"{replica.url}/metrics").text
    batches = _delta(before, after, "modelyard_scoring_batch_size_count")
    images = _delta(before, after, "modelyard_scoring_batch_size_sum")
    single = _delta(before, after, 'modelyard_scoring_batch_size_bucket{le="1"}')
    assert images == 16 and batches < 16 and batches - single >= 1  # some batch held several


def _delta(before: str, after: str, sample: str) -> float:
    return metric_value(after, sample) - metric_value(before, sample)


@pytest.mark.parametrize(
    ("headers", "why"),
    [({}, "no key"), ({"Authorization": "Bearer not-a-key"}, "not a current key"),
     ({"Authorization": KEY}, "no key")],
)  # fmt: skip
def test_a_missing_or_wrong_key_is_401(replica: Replica, headers: dict[str, str], why: str) -> None:
    answer = httpx.post(f"{replica.url}/score", content=RED, headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["code"] == "AUTH_FAILED" and why in answer.json()["message"]
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


def test_the_secondary_key_works_too(replica: Replica) -> None:
    answer = score(
        replica, {"Authorization": f"Bearer {SECOND_KEY}", "Content-Type": "image/png"}, content=RED
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("request_args", "status", "words"),
    [
        ({"content": b"{not json", "headers": JSON}, 400, "not valid JSON"),
        ({"content": b"", "headers": PNG}, 400, "body is empty"),
        ({"content": b"GIF89a not really", "headers": {"Content-Type": "image/gif"}}, 400,
         "cannot be used"),
        ({"json": {"ImageSource": "%%% not base64"}}, 400, "not valid base64"),
        ({"json": {"ImageSource": base64.b64encode(b"hello").decode()}}, 400,
         "not a supported image"),
        ({"json": {"data": []}}, 400, "holds no images"),
        ({"json": {"image": "x"}}, 400, "holds no ImageSource"),
        ({"content": b"hello", "headers": {"Content-Type": "text/plain"}}, 415, "text/plain"),
        ({"content": b"x" * 60_000, "headers": PNG}, 413, "over the limit"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_json_answer_that_says_why(
    replica: Replica, request_args: dict[str, object], status: int, words: str
) -> None:
    headers = {**AUTH, **request_args.pop("headers", {})}  # type: ignore[dict-item]
    answer = httpx.post(f"{replica.url}/score", headers=headers, timeout=30, **request_args)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    assert words in answer.json()["message"] and answer.json()["request_id"]


def test_a_body_without_a_length_is_cut_off_at_the_limit_while_read(replica: Replica) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 10_000  # 100,000 bytes in all, no Content-Length

    answer = score(replica, {"Content-Type": "image/png"}, content=chunks())
    assert answer.status_code == 413 and answer.json()["code"] == "BODY_TOO_LARGE"
    assert score(replica, {"Content-Type": "image/png"}, content=RED).status_code == 200


def test_probes_swagger_and_metrics(replica: Replica) -> None:
    assert httpx.get(f"{replica.url}/").text == "Healthy"
    assert httpx.get(f"{replica.url}/health/ready").json() == {"ready": True, "state": "ready"}
    swagger = httpx.get(f"{replica.url}/swagger.json").json()
    output = swagger["components"]["schemas"]["ModelOutput"]["properties"]
    assert output["Prediction"]["enum"] == TINY_LABELS
    assert list(output["Score"]["properties"]) == TINY_LABELS
    content = swagger["paths"]["/score"]["post"]["requestBody"]["content"]
    assert {"image/*", "multipart/form-data", "application/json"} <= set(content)
    metrics = httpx.get(f"{replica.url}/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert metric_value(metrics.text, 'modelyard_scoring_requests_total{status="200"}') >= 1
    assert "# TYPE modelyard_scoring_request_duration_seconds histogram" in metrics.text


def test_the_replica_imports_neither_torch_nor_onnx(replica: Replica) -> None:
    """Read from the running process itself: torch and onnx load native libraries when imported."""
    mapped = Path(f"/proc/{replica.process.pid}/maps").read_text()
    assert "onnxruntime" in mapped  # the check sees the libraries a replica does load
    assert "libtorch" not in mapped and "onnx_cpp2py_export" not in mapped


def test_scoring_path_modules_hold_no_torch(model_builder_dir: Path) -> None:
    """The same, as sys.modules after a preflight has loaded the model and scored an image."""
    code = (
        "import sys\n"
        "from modelyard.serving.__main__ import main\n"
        f"code = main(['--preflight', '--model-dir', {str(model_builder_dir)!r}])\n"
        "import modelyard.serving.app, uvicorn\n"
        "heavy = ('torch', 'onnx', 'torchvision')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [replica_command()[0], "-c", code],
        env=replica_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_caller_that_never_sends_its_headers_is_disconnected(replica: Replica) -> None:
    """The replica has the server's header deadline: a silent connection holds nothing."""
    parts = urlsplit(replica.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as silent:
        silent.sendall(b"POST /score HTTP/1.1\r\nHost: 127")
        assert silent.recv(1024) == b""  # closed by the replica after HEADER_TIMEOUT_S
    assert score(replica, headers=PNG, content=RED).status_code == 200
