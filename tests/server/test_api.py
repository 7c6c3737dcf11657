"""The REST API on a real uvicorn server on 127.0.0.1: error format, artifacts, and attacks."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest

from modelyard.compute.local.processes import handle_for
from modelyard.entities import RunStatus, limits
from modelyard.server import create_app
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace, create_workspace, open_workspace
from modelyard.store.rest import RestStore
from server.serving import serve

API = "/api/v1"
OCTETS = {"content-type": "application/octet-stream"}  # an upload's own content type


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenWorkspace]:
    monkeypatch.setenv("MODELYARD_MAX_UPLOAD_MB", "1")
    workspace = create_workspace("api-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def url(ws: OpenWorkspace) -> Iterator[str]:
    with serve(create_app(ws, auth=False)) as base:
        yield base


@pytest.fixture
def run_id(ws: OpenWorkspace) -> str:
    return ws.store.create_run("attacks", user="ana").id


def raw_request(base: str, method: str, target: str, body: bytes = b"", **headers: str) -> int:
    """Send the request line exactly as written (no client normalizes the path); the status."""
    parts = urlsplit(base)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body or method in {"PUT", "POST"}:
        lines.append(f"Content-Length: {len(body)}")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status_line = connection.makefile("rb").readline().decode("latin-1")
    return int(status_line.split()[1])


def test_errors_are_json_with_a_code_and_never_a_500_for_bad_input(url: str) -> None:
    missing = httpx.get(f"{url}{API}/runs/nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND" and "nope" in missing.json()["message"]
    malformed = httpx.post(
        f"{url}{API}/runs", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.json()["code"] == "INVALID_VALUE"
    wrong_shape = httpx.post(f"{url}{API}/runs", json={"user": 3})
    assert wrong_shape.status_code == 422
    bad_name = httpx.post(f"{url}{API}/runs", json={"experiment_name": "bad name", "user": "a"})
    assert bad_name.status_code == 400 and bad_name.json()["code"] == "INVALID_NAME"
    no_route = httpx.get(f"{url}{API}/nothing-here")
    assert no_route.status_code == 404 and no_route.json()["code"] == "NOT_FOUND"
    # Found by the API fuzzer: a 405 names the methods the path takes (RFC 9110 says it must).
    wrong_method = httpx.request("TRACE", f"{url}{API}/workspace")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert httpx.get(f"{url}{API}/workspace").json()["name"] == "api-ws"


def test_a_batch_is_parsed_as_json_was_with_nan_and_infinities(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    """The runs routes parse bodies with pydantic-core (server/json_route.py): the JavaScript
    tokens NaN and Infinity still read as values, the exact float comes through, and a body
    that is not JSON is still a one-line 422."""
    body = (
        b'{"metrics": [{"name": "m", "value": NaN, "step": 0, "timestamp": 1.5},'
        b' {"name": "m", "value": -Infinity, "step": 1, "timestamp": 1.5},'
        b' {"name": "m", "value": 0.30000000000000004, "step": 2, "timestamp": 1700000000.123456}]}'
    )
    logged = httpx.post(
        f"{url}{API}/runs/{run_id}/batch",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert logged.status_code == 200, logged.text
    history = ws.store.get_metric_history(run_id, "m")
    assert math.isnan(history[0].value) and history[1].value == -math.inf
    assert (history[2].value, history[2].timestamp) == (0.1 + 0.2, 1700000000.123456)
    for broken in (b'{"metrics": [', b"", b'{"metrics": [1, ]}'):
        refused = httpx.post(
            f"{url}{API}/runs/{run_id}/batch",
            content=broken,
            headers={"content-type": "application/json"},
        )
        assert refused.status_code == 422 and refused.json()["code"] == "INVALID_VALUE"
        assert "\n" not in refused.json()["message"]


def test_artifacts_upload_and_download_streamed(url: str, run_id: str, ws: OpenWorkspace) -> None:
    payload = bytes(range(256)) * 2048  # 512 KiB
    uploaded = httpx.put(
        f"{url}{API}/runs/{run_id}/artifacts/outputs/model.bin", content=payload, headers=OCTETS
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"path": "outputs/model.bin", "size": len(payload)}
    with httpx.stream("GET", f"{url}{API}/runs/{run_id}/artifacts/outputs/model.bin") as response:
        assert response.headers["content-length"] == str(len(payload))
        assert b"".join(response.iter_bytes()) == payload
    listed = httpx.get(f"{url}{API}/runs/{run_id}/artifacts").json()
    assert listed == [{"path": "outputs/model.bin", "size": len(payload)}]


def test_an_oversize_upload_is_413_leaves_nothing_and_the_server_stays_up(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    too_big = b"x" * (1024 * 1024 + 1)
    response = httpx.put(
        f"{url}{API}/runs/{run_id}/artifacts/big.bin", content=too_big, headers=OCTETS
    )
    assert response.status_code == 413 and response.json()["code"] == "BODY_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
        for _ in range(3):
            yield b"y" * (512 * 1024)

    streamed = httpx.put(
        f"{url}{API}/runs/{run_id}/artifacts/big2.bin", content=chunks(), headers=OCTETS
    )
    assert streamed.status_code == 413
    assert httpx.get(f"{url}{API}/runs/{run_id}/artifacts").json() == []
    assert not any(ws.artifacts.run_root(run_id).rglob("*.bin"))
    assert httpx.get(f"{url}{API}/workspace").status_code == 200


def test_a_killed_upload_leaves_no_partial_artifact(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        head = (
            f"PUT {API}/runs/{run_id}/artifacts/partial.bin HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Length: 100000\r\n\r\n"
        )
        connection.sendall(head.encode() + b"z" * 1000)
    for _ in range(50):  # the server notices the disconnect asynchronously
        if not list(ws.artifacts.run_root(run_id).rglob(".tmp-*")):
            break
        import time

        time.sleep(0.1)
    assert httpx.get(f"{url}{API}/runs/{run_id}/artifacts").json() == []
    assert not list(ws.artifacts.run_root(run_id).rglob("*partial*"))


ATTACKS = [
    "../../../../etc/passwd",
    "outputs/../../secret.txt",
    "/etc/passwd",
    "..\\..\\secret.txt",
    "outputs\\..\\..\\secret.txt",
    "file:///etc/passwd",
    "C:/Windows/win.ini",
    "outputs/a\x00b.txt",
    "..",
    "outputs/%2e%2e/%2e%2e/secret.txt",
]


def _spellings(attack: str) -> list[str]:
    once = quote(attack, safe="/")
    return [
        attack,
        once,
        quote(once, safe="/"),
        quote(attack, safe=""),
        quote(quote(attack, ""), ""),
    ]


@pytest.mark.parametrize("attack", ATTACKS)
def test_artifact_path_attacks_are_refused_in_every_spelling(
    url: str, run_id: str, ws: OpenWorkspace, tmp_path: Path, attack: str
) -> None:
    secret = ws.root / "secret.txt"
    secret.write_text("do not read")
    before = sorted(str(path) for path in tmp_path.rglob("*"))
    for spelling in _spellings(attack):
        if "\x00" in spelling:  # a raw NUL can't be sent on the request line at all
            continue
        target = f"{API}/runs/{run_id}/artifacts/{spelling}"
        for trick in ("", "?x=1", "#frag"):
            read = raw_request(url, "GET", target + trick)
            assert read in {400, 404}, (spelling, trick, read)
            written = raw_request(url, "PUT", target + trick, body=b"pwned", **OCTETS)
            assert written in {400, 404, 405}, (spelling, trick, written)
    assert sorted(str(path) for path in tmp_path.rglob("*")) == before
    assert secret.read_text() == "do not read"


def test_a_symlink_out_of_the_run_is_neither_read_nor_written_through(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    outside = ws.root / "outside.txt"
    outside.write_text("private")
    run_root = ws.artifacts.run_root(run_id)
    run_root.mkdir(parents=True, exist_ok=True)
    (run_root / "link.txt").symlink_to(outside)
    assert httpx.get(f"{url}{API}/runs/{run_id}/artifacts/link.txt").status_code in {400, 404}
    written = httpx.put(
        f"{url}{API}/runs/{run_id}/artifacts/link.txt", content=b"pwned", headers=OCTETS
    )
    assert outside.read_text() == "private"
    assert written.status_code in {200, 400}


def _sse_events(response: httpx.Response) -> Iterator[tuple[str, str, dict[str, object]]]:
    """(id, event, data) for each server-sent event; comments (keep-alives) are skipped."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(": ")
            fields[name] = value
            continue
        if fields:
            yield fields["id"], fields["event"], json.loads(fields["data"])
            fields = {}


def test_log_stream_pushes_the_log_live_and_ends_with_the_run(url: str, ws: OpenWorkspace) -> None:
    run = ws.store.create_run("live", user="ana", status=RunStatus.QUEUED)
    ws.store.transition_run(run.id, RunStatus.RUNNING)
    log_file = ws.artifacts.run_root(run.id) / STD_LOG
    log_file.parent.mkdir(parents=True)
    log_file.write_text("epoch 0\n")
    received: list[tuple[str, str, dict[str, object]]] = []
    with httpx.stream("GET", f"{url}{API}/runs/{run.id}/logs/stream", timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in _sse_events(response):
            received.append(event)
            if len(received) == 1:  # the job writes more, then ends, while we listen
                with open(log_file, "a") as handle:
                    handle.write('epoch 1 "quoted"\nepoch 2\n')
                ws.store.transition_run(run.id, RunStatus.COMPLETED)
    text = "".join(str(data["text"]) for _, name, data in received if name == "log")
    assert text == 'epoch 0\nepoch 1 "quoted"\nepoch 2\n'
    last_id, last_name, last_data = received[-1]
    assert last_name == "end" and last_data == {"status": "Completed", "offset": len(text)}
    assert last_id == str(len(text))


def test_log_stream_resumes_from_last_event_id_and_refuses_bad_input(
    url: str, ws: OpenWorkspace
) -> None:
    run = ws.store.create_run("live", user="ana")
    ws.artifacts.put_bytes(run.id, STD_LOG, b"one\ntwo\n")
    ws.store.transition_run(run.id, RunStatus.CANCELED)
    stream_url = f"{url}{API}/runs/{run.id}/logs/stream"
    with httpx.stream("GET", stream_url, headers={"Last-Event-ID": "4"}) as response:
        events = list(_sse_events(response))
    assert [(name, data) for _, name, data in events] == [
        ("log", {"text": "two\n", "offset": 8}),
        ("end", {"status": "Canceled", "offset": 8}),
    ]
    unknown = httpx.get(f"{url}{API}/runs/nope/logs/stream")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"
    escaping = httpx.get(stream_url, params={"path": "../../config.json"})
    assert escaping.status_code == 400
    negative = httpx.get(stream_url, params={"offset": -1})
    assert negative.status_code == 422


def test_a_log_read_from_past_the_largest_file_is_empty_not_a_broken_stream(
    url: str, ws: OpenWorkspace
) -> None:
    """Found by the API fuzzer: offset 2**62 (allowed) made the seek fail inside the stream
    after its 200 was sent, so the client saw a broken connection."""
    run = ws.store.create_run("live", user="ana")
    ws.artifacts.put_bytes(run.id, STD_LOG, b"one\n")
    ws.store.transition_run(run.id, RunStatus.CANCELED)
    far = str(limits.OFFSET_MAX)
    stream_url = f"{url}{API}/runs/{run.id}/logs/stream"
    with httpx.stream("GET", stream_url, headers={"Last-Event-ID": far}) as response:
        events = [(name, data) for _, name, data in _sse_events(response)]
    assert events == [("end", {"status": "Canceled", "offset": limits.OFFSET_MAX})]
    polled = httpx.get(f"{url}{API}/runs/{run.id}/logs", params={"offset": far})
    assert polled.status_code == 200 and polled.json() == {"text": "", "offset": limits.OFFSET_MAX}


def test_a_folder_is_refused_as_a_log_before_anything_is_streamed(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    """Found by the API fuzzer: `path=outputs`, a folder, was IsADirectoryError, a 500."""
    ws.artifacts.put_bytes(run_id, "outputs/model.txt", b"w")
    for route in ("logs", "logs/stream"):
        for folder in ("outputs", "outputs/"):
            answer = httpx.get(f"{url}{API}/runs/{run_id}/{route}", params={"path": folder})
            assert answer.status_code == 400, (route, folder, answer.text)
            assert "is a folder, not a log" in answer.json()["message"]


def test_a_moment_outside_the_calendar_in_utc_is_422_not_a_500(url: str) -> None:
    """Found by the API fuzzer: 0001-01-01T00:00+14:00 is in year 0 in UTC (OverflowError)."""
    for since in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        answer = httpx.get(f"{url}{API}/runs-silent", params={"since": since})
        assert answer.status_code == 422, (since, answer.text)
        assert "in UTC" in answer.json()["message"]
    for since in ("0001-01-01T00:00:00-14:00", "2024-01-01T00:00:00", "2024-01-01T00:00:00Z"):
        assert httpx.get(f"{url}{API}/runs-silent", params={"since": since}).status_code == 200


def test_a_run_whose_process_died_here_ends_for_a_remote_client_too(ws: OpenWorkspace) -> None:
    # The server reaps on the reads a client waits with: the run and its live log.
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    handle = handle_for(process.pid)
    process.wait()
    streamed, polled = (
        ws.store.create_run("e", user="u", status=RunStatus.RUNNING) for _ in range(2)
    )
    for run in (streamed, polled):
        ws.store.record_process(run.id, handle.host, handle.pid, handle.started_at)
    silent = open_workspace(ws.root, flags={"heartbeat_timeout_s": 0})
    try:
        with serve(create_app(silent, auth=False)) as base:
            remote = RestStore(base)
            assert list(remote.follow_log(streamed.id, STD_LOG)) == []  # ended, not kept alive
            assert ws.store.get_run(streamed.id).status is RunStatus.FAILED
            assert remote.get_run(polled.id).status is RunStatus.FAILED
    finally:
        silent.close()


def test_numbers_are_checked_at_the_edge_as_their_columns_hold_them(
    url: str, run_id: str, ws: OpenWorkspace
) -> None:
    """The review's 500s: pid -5 (which then broke the reaper), pid 2**70 and step 2**63
    (OverflowError), a NaN timestamp (409 'try again')."""
    for pid in (-5, 0, 2**70):
        body = {"host": "h", "pid": pid, "pid_started_at": 1.0}
        answer = httpx.post(f"{url}{API}/runs/{run_id}/process", json=body)
        assert answer.status_code == 422, (pid, answer.text)
    point = {"name": "loss", "value": 1.0, "step": 0, "timestamp": 1.0}
    for change, status in (
        ({"step": 2**63}, 400),
        ({"step": -1}, 400),
        ({"timestamp": math.nan}, 422),
        ({"timestamp": math.inf}, 422),
        ({"timestamp": -1.0}, 422),
    ):
        answer = httpx.post(
            f"{url}{API}/runs/{run_id}/batch",
            content=json.dumps({"metrics": [{**point, **change}]}),
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == status, (change, answer.text)
    assert ws.store.get_metric_history(run_id) == []
    offset = httpx.get(f"{url}{API}/runs/{run_id}/logs", params={"offset": 2**70})
    assert offset.status_code == 422
    assert httpx.get(f"{url}{API}/runs").status_code == 200


def test_every_spelling_of_infinity_is_one_value(url: str, run_id: str, ws: OpenWorkspace) -> None:
    spellings = ["Infinity", "inf", "+inf", "-Infinity", "-inf", "NaN", "nan"]
    metrics = [
        {"name": f"m{index}", "value": text, "step": 0, "timestamp": 1.0}
        for index, text in enumerate(spellings)
    ]
    answer = httpx.post(f"{url}{API}/runs/{run_id}/batch", json={"metrics": metrics})
    assert answer.status_code == 200, answer.text
    values = {m.name: m.value for m in ws.store.get_metric_history(run_id)}
    assert [values[f"m{i}"] for i in range(4)] == [math.inf, math.inf, math.inf, -math.inf]
    assert values["m4"] == -math.inf and all(math.isnan(values[f"m{i}"]) for i in (5, 6))
