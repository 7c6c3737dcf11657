"""The batch-scoring loop: the files not yet in the output, mini-batch by mini-batch.

Images are decoded and preprocessed by the no-code scorer's model (`serving.image_model`, the
trainer's own preprocessing), in a few threads, and each mini-batch is one onnxruntime call (or
one per image for a graph exported with a batch of one). A file that cannot be used as an image
is listed with its reason instead of stopping the job, until the error threshold says
otherwise. Between mini-batches the loop asks whether it should stop (a preemption): what it
has written is then everything a later attempt needs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from modelyard.errors import JobFailed
from modelyard.serving.batch.config import BatchScoreConfig
from modelyard.serving.batch.ledger import UNREADABLE_FILE, Ledger, Record
from modelyard.serving.image_model import ImageModel
from modelyard.vision import preprocessing
from modelyard.vision.decoding import ImageUnreadable, decode_image_bytes

DECODE_THREADS: Final = 4
Input = npt.NDArray[np.float32]


class Outcome(Enum):
    COMPLETED = "completed"
    STOPPED = "stopped"  # asked to stop: resumable from the ledger


@dataclass(frozen=True)
class BatchProgress:
    """Reported after each mini-batch: counts over the whole run (every attempt), the rate of
    this attempt (images scored per second since it started)."""

    scored: int
    failed: int
    total: int
    images_per_s: float


class BatchScorer:
    def __init__(
        self,
        config: BatchScoreConfig,
        model: ImageModel,
        ledger: Ledger,
        report: Callable[[BatchProgress], None],
        stop_requested: Callable[[], bool],
    ) -> None:
        self.config = config
        self.model = model
        self.ledger = ledger
        self.report = report
        self.stop_requested = stop_requested
        self.data = Path(config.data)

    def run(self, files: list[str]) -> Outcome:
        """Score what the ledger lacks of `files`; raise JobFailed past the error threshold."""
        allowed = self.config.threshold.allowed(len(files))
        self._check_threshold(allowed)
        pending = [name for name in files if name not in self.ledger.done]
        started, scored_before = time.perf_counter(), self.ledger.progress.scored
        with ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="decode") as pool:
            for chunk in _chunks(pending, self.config.mini_batch_size):
                self._score_chunk(pool, chunk)
                rate = (self.ledger.progress.scored - scored_before) / max(
                    time.perf_counter() - started, 1e-9
                )
                progress = self.ledger.progress
                self.report(BatchProgress(progress.scored, progress.failed, len(files), rate))
                self._check_threshold(allowed)
                if self.config.pause_s:
                    time.sleep(self.config.pause_s)
                if self.stop_requested():
                    return Outcome.STOPPED
        return Outcome.COMPLETED

    def _score_chunk(self, pool: ThreadPoolExecutor, chunk: list[str]) -> None:
        prepared = list(pool.map(self._prepare, chunk))
        ready = [
            (name, item)
            for name, item in zip(chunk, prepared, strict=True)
            if not isinstance(item, dict)
        ]
        failures = [item for item in prepared if isinstance(item, dict)]
        outputs = self._predict([array for _, array in ready])
        predictions = [
            {"file": name, **output} for (name, _), output in zip(ready, outputs, strict=True)
        ]
        self.ledger.append(predictions, failures)

    def _prepare(self, name: str) -> Input | Record:
        """The model's input for a usable image, else the file's unreadable record."""
        try:
            image = decode_image_bytes((self.data / name).read_bytes())
            array: Input = preprocessing.to_input(image, self.model.package.preprocessing)
        except ImageUnreadable as error:
            return {"file": name, "reason": error.reason, "detail": error.detail}
        except OSError as error:
            return {"file": name, "reason": "unreadable", "detail": str(error.strerror)}
        return array

    def _predict(self, inputs: list[Input]) -> list[dict[str, object]]:
        if not inputs:
            return []
        step = self.model.max_batch_size or len(inputs)
        outputs: list[dict[str, object]] = []
        for start in range(0, len(inputs), step):
            outputs.extend(self.model.predict(inputs[start : start + step]))
        return outputs

    def _check_threshold(self, allowed: int | None) -> None:
        failed = self.ledger.progress.failed
        if allowed is None or failed <= allowed:
            return
        raise JobFailed(
            f"error threshold exceeded: {failed} files could not be scored, more than the"
            f" {allowed} allowed (--error-threshold {self.config.threshold.describe()}); they are"
            f" listed in outputs/{UNREADABLE_FILE}",
            failed=failed,
            allowed=allowed,
        )


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
