"""Run artifacts: what a listing and an upload answer; downloads are the file's bytes."""

from __future__ import annotations

from typing import Any, Final

from modelyard.server.schemas.common import ResponseModel

# An artifact's bytes, as sent (an upload's body) and answered (a download).
BINARY: Final[dict[str, Any]] = {"type": "string", "format": "binary"}


class ArtifactInfo(ResponseModel):
    path: str
    size: int
