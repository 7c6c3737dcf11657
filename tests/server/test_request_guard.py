"""The server's front door (server/guard.py) on a real uvicorn server: each defect the security
review reproduced, as a request an attacker or a careless client would send."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from modelyard.extras import is_installed
from modelyard.server import create_app
from modelyard.server.deps import SESSION_COOKIE
from modelyard.services import auth
from modelyard.services.workspaces import OpenWorkspace, create_workspace, open_workspace
from modelyard.serving.http_protocol import PARSERS, Parser, installed_parser
from server.route_walk import page_routes
from server.serving import serve

API = "/api/v1"
# The defences against slow and malformed clients live partly in the HTTP protocol: each is tried
# on both parsers (`modelyard server` takes httptools when installed, else h11).
on_each_parser = pytest.mark.parametrize(
    "parser",
    [
        pytest.param(name, marks=pytest.mark.skipif(not is_installed(name), reason="not installed"))
        for name in PARSERS
    ],
    indirect=True,
)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenWorkspace]:
    monkeypatch.setenv("MODELYARD_MAX_JSON_KB", "64")
    monkeypatch.setenv("MODELYARD_REQUEST_BODY_TIMEOUT_S", "1.5")
    workspace = create_workspace("guard-ws", path=tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def parser(request: pytest.FixtureRequest) -> Parser:
    """The HTTP parser served: `modelyard server`'s, unless a test names one (`on_each_parser`)."""
    chosen: Parser = getattr(request, "param", installed_parser())
    return chosen


@pytest.fixture
def open_url(ws: OpenWorkspace, parser: Parser) -> Iterator[str]:
    """A --no-auth server: the case where the review ran code from a web page."""
    with serve(create_app(ws, auth=False), parser) as base:
        yield base


@pytest.fixture
def served(ws: OpenWorkspace, parser: Parser) -> Iterator[tuple[str, str]]:
    admin = auth.ensure_admin(ws)
    assert admin is not None
    with serve(create_app(ws), parser) as base:
        yield base, admin


def _job_archive(marker: Path) -> bytes:
    """A job that would write `marker` if it ever ran."""
    job = {"experiment": "pwned", "script": "run.py", "arguments": [], "compute_target": "local"}
    script = f"open({str(marker)!r}, 'w').write('ran')\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in (("job.json", json.dumps(job).encode()), ("snapshot/run.py", script)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _send_raw(base: str, head: str, body: bytes = b"", wait_s: float = 10) -> tuple[int, str]:
    """Send a request exactly as written; the status and body of the answer."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait_s) as connection:
        connection.sendall(head.encode("latin-1") + b"\r\n\r\n" + body)
        answer = connection.makefile("rb")
        status = int(answer.readline().split()[1])
        length = 0
        while (line := answer.readline().strip()) != b"":
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, answer.read(length).decode()


def test_a_web_page_cannot_run_a_job_on_a_no_auth_server(
    open_url: str, ws: OpenWorkspace, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned.txt"
    archive = _job_archive(marker)
    host = urlsplit(open_url).netloc
    attacks = {
        # the review's curl: a "simple" request a browser sends cross-site without a preflight
        "text/plain": ({"content-type": "text/plain"}, 415),
        "cross-site origin": (
            {"content-type": "application/x-tar", "origin": "http://evil.example"},
            403,
        ),
        "fetch metadata": (
            {"content-type": "application/x-tar", "sec-fetch-site": "cross-site"},
            403,
        ),
        "null origin (sandboxed frame)": (
            {"content-type": "application/x-tar", "origin": "null"},
            403,
        ),
        # DNS rebinding: evil.example now resolves to 127.0.0.1, the Host header says so
        "rebinding": ({"content-type": "application/x-tar", "host": "evil.example"}, 400),
        "form post": ({"content-type": "multipart/form-data; boundary=x"}, 415),
    }
    for label, (headers, status) in attacks.items():
        answer = httpx.post(f"{open_url}{API}/jobs", content=archive, headers=headers)
        assert answer.status_code == status, (label, answer.text)
        assert answer.json()["message"], label
    time.sleep(0.5)
    assert ws.store.list_runs() == [] and not marker.exists()
    # The same request from the server's own origin (a page it served) or from a client goes on.
    own = httpx.post(
        f"{open_url}{API}/experiments",
        json={"name": "fine"},
        headers={"origin": f"http://{host}", "sec-fetch-site": "same-origin"},
    )
    assert own.status_code == 200, own.text


def test_only_allowed_host_names_are_answered(ws: OpenWorkspace) -> None:
    with serve(create_app(ws, auth=False, bind_host="127.0.0.1")) as base:
        port = urlsplit(base).port
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            assert httpx.get(f"{base}{API}/workspace", headers={"host": host}).status_code == 200
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
            answer = httpx.get(f"{base}/", headers={"host": host})
            assert answer.status_code == 400, host
            assert "MODELYARD_ALLOWED_HOSTS" in answer.json()["message"]


def test_configured_host_names_are_answered(
    ws: OpenWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELYARD_ALLOWED_HOSTS", "ml.example.com, Studio.Lan")
    with closing(open_workspace(ws.root)) as again, serve(create_app(again, auth=False)) as base:
        for host in ("ml.example.com", "studio.lan:8080"):
            answer = httpx.get(f"{base}{API}/workspace", headers={"host": host})
            assert answer.status_code == 200, host
        assert httpx.get(base, headers={"host": "other.lan"}).status_code == 400


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        (f"{API}/experiments/a%0Ab", "control character"),
        (f"{API}/experiments/a%00b", "control character"),
        (f"{API}/runs/x/artifacts/..%c0%af..%c0%afsecret", "UTF-8"),
        (f"{API}/runs/x/artifacts/%ff", "UTF-8"),
        (f"{API}/workspace#frag", "fragment"),
    ],
)
@on_each_parser
def test_a_bad_request_line_is_400_naming_the_problem(
    open_url: str, target: str, problem: str
) -> None:
    host = urlsplit(open_url).netloc
    status, body = _send_raw(
        open_url, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close"
    )
    assert status == 400
    assert problem in json.loads(body)["message"]


@on_each_parser
def test_the_token_is_checked_before_the_body_is_read(served: tuple[str, str]) -> None:
    base, _ = served
    host = urlsplit(base).netloc
    # 100 MiB announced, not a byte sent: the answer must come without waiting for the body.
    head = (
        f"POST {API}/runs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}"
    )
    status, body = _send_raw(base, head, wait_s=5)
    assert status == 401 and json.loads(body)["code"] == "AUTH_FAILED"


@on_each_parser
def test_json_and_form_bodies_are_bounded_before_they_are_read(served: tuple[str, str]) -> None:
    base, admin = served
    host = urlsplit(base).netloc
    limit = 64 * 1024
    bearer = f"Authorization: Bearer {admin}\r\n"
    for path, media_type, extra in (
        (f"{API}/experiments", "application/json", bearer),
        ("/login", "application/x-www-form-urlencoded", ""),
    ):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Type: {media_type}\r\n"
            f"Content-Length: {100 * 1024 * 1024}"
        )
        status, body = _send_raw(base, head, wait_s=5)
        assert status == 413, (path, body)
        assert json.loads(body)["code"] == "BODY_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
        yield b'{"name": "'
        for _ in range(limit // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    streamed = httpx.post(
        f"{base}{API}/experiments",
        content=chunks(),
        headers={"authorization": f"Bearer {admin}", "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert httpx.get(
        f"{base}{API}/workspace", headers={"authorization": f"Bearer {admin}"}
    ).is_success


def test_every_json_route_has_a_body_limit(served: tuple[str, str]) -> None:
    base, admin = served
    headers = {"authorization": f"Bearer {admin}", "content-type": "application/json"}
    spec = httpx.get(f"{base}/openapi.json", headers=headers).json()
    json_routes = [
        (method.upper(), path.replace("{run_id}", "x").replace("{name}", "x"))
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(json_routes) >= 6
    too_big = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
    for method, path in json_routes:
        answer = httpx.request(method, f"{base}{path}", content=too_big, headers=headers)
        assert answer.status_code == 413, (method, path, answer.text)


@on_each_parser
def test_a_slow_json_body_is_cut_off_and_holds_nothing(served: tuple[str, str]) -> None:
    base, admin = served
    host = urlsplit(base).netloc
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(
            (
                f"POST {API}/experiments HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {admin}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n{"
            ).encode()
        )
        status_line = connection.makefile("rb").readline()
    assert int(status_line.split()[1]) == 408


@on_each_parser
def test_slow_uploads_do_not_freeze_the_server(served: tuple[str, str], ws: OpenWorkspace) -> None:
    """The review's attack: 45 authenticated uploads sending a byte every couple of seconds
    (the worker pool is 40). The API and the portal must still answer, at once."""
    base, admin = served
    run = ws.store.create_run("slow", user="admin")
    parts = urlsplit(base)
    stop = threading.Event()
    sockets: list[socket.socket] = []

    def dribble(index: int) -> None:
        connection = socket.create_connection((parts.hostname, parts.port), timeout=30)
        sockets.append(connection)
        connection.sendall(
            (
                f"PUT {API}/runs/{run.id}/artifacts/slow{index}.bin HTTP/1.1\r\n"
                f"Host: {parts.netloc}\r\nAuthorization: Bearer {admin}\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
            ).encode()
        )
        while not stop.wait(0.5):
            try:
                connection.sendall(b"x")
            except OSError:
                return

    threads = [threading.Thread(target=dribble, args=(i,), daemon=True) for i in range(45)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        headers = {"authorization": f"Bearer {admin}"}
        with httpx.Client(timeout=5) as client:
            assert client.get(f"{base}{API}/workspace", headers=headers).status_code == 200
            assert client.get(f"{base}/login").status_code == 200
            assert client.get(f"{base}{API}/runs/{run.id}", headers=headers).status_code == 200
        # And the dribblers are cut off by the time rule (each chunk and the minimum rate).
        time.sleep(3.5)
        assert not list(ws.artifacts.list(run.id))
    finally:
        stop.set()
        for connection in sockets:
            connection.close()


@on_each_parser
def test_a_client_that_never_finishes_its_headers_is_disconnected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parser: Parser
) -> None:
    monkeypatch.setenv("MODELYARD_REQUEST_HEADER_TIMEOUT_S", "1")
    workspace = create_workspace("slow-headers", path=tmp_path / "slow")
    try:
        with serve(create_app(workspace, auth=False), parser) as base:
            parts = urlsplit(base)
            silent = socket.create_connection((parts.hostname, parts.port), timeout=10)
            dribbling = socket.create_connection((parts.hostname, parts.port), timeout=10)
            started = time.monotonic()
            for byte in b"GET /api/v1/workspace HTTP/1.1\r\nHost: 127":
                if time.monotonic() - started > 0.7:
                    break  # then wait: the deadline falls at 1 s
                dribbling.sendall(bytes([byte]))
                time.sleep(0.05)
            for connection in (silent, dribbling):
                with connection:
                    assert connection.recv(1024) == b""  # closed by the server
            # A client that sends its request at once is served as ever.
            assert httpx.get(f"{base}{API}/workspace").status_code == 200
    finally:
        workspace.close()


@on_each_parser
def test_headers_that_grow_without_end_are_refused(open_url: str) -> None:
    """A request line and headers are capped at 16 KiB until complete (h11's own limit, which
    the httptools protocol applies too): a client cannot fill the server's memory with them."""
    parts = urlsplit(open_url)
    head = f"GET {API}/workspace HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"X-Pad-{index}: {'x' * 1000}\r\n" for index in range(17))  # no end
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(head.encode())
        answer = connection.makefile("rb")
        assert int(answer.readline().split()[1]) == 400
        while answer.readline():
            pass  # to the end: the server closed the connection


def test_no_page_route_that_changes_something_takes_a_request_from_another_site(
    ws: OpenWorkspace,
) -> None:
    """The walk of every route outside the API that is not a GET (the login and the logout,
    today): another site's page cannot log the browser in or out, with a form or a script."""
    admin = auth.ensure_admin(ws)
    assert admin is not None
    app = create_app(ws)
    changing = sorted(route for route in page_routes(app) if route[0] not in ("GET", "MOUNT"))
    assert changing == [("POST", "/login"), ("POST", "/logout")]
    form = "application/x-www-form-urlencoded"
    cookie = f"{SESSION_COOKIE}={admin}"
    forgeries = {
        "cross-site origin": {"content-type": form, "origin": "http://evil.example"},
        "null origin (sandboxed frame)": {"content-type": form, "origin": "null"},
        "fetch metadata": {"content-type": form, "sec-fetch-site": "cross-site"},
        "text/plain body": {"content-type": "text/plain"},
        "multipart form": {"content-type": "multipart/form-data; boundary=x"},
    }
    with serve(app) as base:
        for method, path in changing:
            for label, headers in forgeries.items():
                answer = httpx.request(
                    method,
                    f"{base}{path}",
                    content=f"token={admin}&next=/app/",
                    headers={**headers, "cookie": cookie},
                )
                assert answer.status_code in (403, 415), (path, label, answer.text)
                assert "set-cookie" not in answer.headers, (path, label)
            own = {"content-type": form, "origin": base, "sec-fetch-site": "same-origin"}
            answer = httpx.request(
                method, f"{base}{path}", content=f"token={admin}", headers={**own, "cookie": cookie}
            )
            assert answer.status_code == 303 and "set-cookie" in answer.headers, path
