"""The server's OpenAPI document written to a file, with no server running: what the portal's
TypeScript client is generated from (`make portal-client`).

`python -m modelyard.server.openapi_dump portal-ui/openapi.json` builds the app over a throwaway
workspace (in a temporary folder, with a Modelyard home of its own, so no user's workspace list
is touched) and writes `app.openapi()` as the `/openapi.json` route would answer it. The output
is deterministic (keys in the app's order, two-space indents, a final newline), so a check can
compare it byte for byte.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelyard.fileio import write_bytes_atomic
from modelyard.server.app import create_app
from modelyard.services.workspaces import create_workspace

HOME_VARIABLE = "MODELYARD_HOME"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of an app over a throwaway workspace."""
    with (
        tempfile.TemporaryDirectory(prefix="modelyard-openapi-") as scratch,
        _home(Path(scratch) / "home"),
    ):
        ws = create_workspace("openapi-dump", path=Path(scratch) / "ws")
        try:
            document: dict[str, Any] = create_app(ws).openapi()
        finally:
            ws.close()
    return document


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


@contextmanager
def _home(folder: Path) -> Iterator[None]:
    before = os.environ.get(HOME_VARIABLE)
    os.environ[HOME_VARIABLE] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(HOME_VARIABLE, None)
        else:
            os.environ[HOME_VARIABLE] = before


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m modelyard.server.openapi_dump OUTPUT.json", file=sys.stderr)
        return 2
    write_bytes_atomic(Path(argv[0]), openapi_text().encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
