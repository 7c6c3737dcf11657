"""Preflight: before a deployment takes traffic, run init() and score one sample, in-process.

Azure's users learn that their score.py is broken from "liveness probe failed 502"; here the
deployment calls `preflight()` first (in the target environment: `python -m modelyard.serving
--preflight …` prints the result as JSON) and refuses to go on with the script's own traceback.
The no-code image scorer's sample is a small generated image; an entry script's is the caller's
(without one, only init() is checked).
"""

from __future__ import annotations

import asyncio
import io
import json
import traceback
from dataclasses import asdict, dataclass
from typing import Any

from modelyard.errors import ModelyardError
from modelyard.serving.app import answer_json
from modelyard.serving.config import ReplicaConfig
from modelyard.serving.metrics import ReplicaMetrics
from modelyard.serving.scorers import Scorer, scorer_for


@dataclass(frozen=True)
class PreflightResult:
    """ok, or the stage that failed ("init" or "request"), its one-line message and traceback."""

    ok: bool
    stage: str
    message: str
    traceback: str | None = None
    answer: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def preflight(
    config: ReplicaConfig, sample: bytes | None = None, content_type: str | None = None
) -> PreflightResult:
    """Initialise the scorer and score `sample` (call from code with no running event loop)."""
    scorer = scorer_for(config, ReplicaMetrics())
    try:
        scorer.init()
    except Exception as error:
        return _failed("init", error)
    if sample is None and config.entry_script is None:
        sample, content_type = sample_image(), "image/png"
    if sample is None:
        asyncio.run(scorer.close())
        return PreflightResult(True, "init", "init() succeeded; no sample request was given")
    try:
        answer = asyncio.run(_score_once(scorer, content_type, sample))
    except Exception as error:
        return _failed("request", error)
    return PreflightResult(True, "request", "init() and a sample request succeeded", None, answer)


async def _score_once(scorer: Scorer, content_type: str | None, body: bytes) -> Any:
    try:
        answer = await scorer.score(content_type, body)
        return json.loads(answer_json(answer))
    finally:
        await scorer.close()


def _failed(stage: str, error: Exception) -> PreflightResult:
    what = "init()" if stage == "init" else "the sample request"
    detail = (
        error.message if isinstance(error, ModelyardError) else f"{type(error).__name__}: {error}"
    )
    first_line = (detail.strip().splitlines() or [""])[0]
    return PreflightResult(False, stage, f"{what} failed: {first_line}", traceback.format_exc())


def sample_image() -> bytes:
    """A small grey PNG: any image classifier can score it."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (128, 128, 128)).save(buffer, "PNG")
    return buffer.getvalue()
