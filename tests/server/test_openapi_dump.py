"""The OpenAPI document the portal's client is generated from, written with no server running."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.server import create_app
from modelyard.server.openapi_dump import main, openapi_text
from modelyard.services.workspaces import create_workspace


def test_the_dump_is_what_the_server_answers_and_the_same_every_time(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    assert main([str(out)]) == 0
    text = out.read_text()
    assert text == openapi_text()  # byte for byte: a check can compare it with the committed one
    ws = create_workspace("dump-check", path=tmp_path / "ws")
    try:
        assert json.loads(text) == create_app(ws).openapi()
    finally:
        ws.close()
    assert "/api/v1/runs-query" in json.loads(text)["paths"]


def test_the_dump_needs_one_output_path() -> None:
    assert main([]) == 2
