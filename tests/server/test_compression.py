"""What the real server compresses for a client that accepts gzip: the app's scripts and JSON
answers; never the log's server-sent events (they must leave as written), an artifact's raw
bytes, or anything for a client that did not ask."""

from __future__ import annotations

import re

from modelyard.entities import RunStatus
from modelyard.server.spa import DIST_DIR
from modelyard.services.workspaces import OpenWorkspace
from server.portal_support import Served, logged_in_client, populate

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def test_the_apps_entry_script_leaves_compressed_and_arrives_whole(site: Served) -> None:
    with logged_in_client(site) as client:
        (entry,) = re.findall(r'<script[^>]*src="([^"]+)"', client.get("/app/").text)
        compressed = client.get(entry, headers=GZIP)
        plain = client.get(entry, headers=IDENTITY)
    on_disk = (DIST_DIR / entry.removeprefix("/app/")).read_bytes()
    assert compressed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed.headers["vary"].lower()
    assert compressed.num_bytes_downloaded < len(on_disk) / 2  # the bytes that crossed the wire
    assert compressed.content == on_disk  # httpx decoded it
    assert "content-encoding" not in plain.headers
    assert plain.content == on_disk


def test_a_page_of_runs_is_compressed_json(site: Served, ws: OpenWorkspace) -> None:
    populate(ws, 60)
    with logged_in_client(site) as client:
        answer = client.get("/api/v1/runs-query", params={"limit": 60}, headers=GZIP)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-encoding"] == "gzip"
    assert len(answer.json()["runs"]) == 60


def test_raw_artifact_bytes_and_the_live_log_are_never_compressed(
    site: Served, ws: OpenWorkspace
) -> None:
    run = ws.store.create_run("gzip", user="admin", status=RunStatus.RUNNING)
    compressible = b"the same line again\n" * 2000
    ws.artifacts.put_bytes(run.id, "outputs/notes.txt", compressible)
    ws.artifacts.put_bytes(run.id, "logs/std_log.txt", compressible)
    ws.store.transition_run(run.id, RunStatus.COMPLETED)
    with logged_in_client(site) as client:
        artifact = client.get(f"/api/v1/runs/{run.id}/artifacts/outputs/notes.txt", headers=GZIP)
        with client.stream("GET", f"/api/v1/runs/{run.id}/logs/stream", headers=GZIP) as log:
            log_headers = log.headers
            events = log.read()
    assert artifact.status_code == 200
    assert "content-encoding" not in artifact.headers
    assert artifact.content == compressible
    assert log_headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in log_headers
    assert b"event: end" in events
