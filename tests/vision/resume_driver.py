"""The image-classification job, paused at a chosen point until it is asked to stop.

    python resume_driver.py POINT MARKER JOB_ARGUMENT…

POINT is `featurized:N` (after the featurization batch that reaches N images) or `epoch:N`
(after epoch N's metrics, before its checkpoint). There the job writes MARKER and waits, so the
test can send SIGTERM at that exact point (or SIGKILL); everything else is the real job:
`modelyard.builtin_jobs.image_classification.main` with the job's arguments.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelyard.builtin_jobs import image_classification
from modelyard.vision.features import FeatureProgress
from modelyard.vision.train import Trainer
from modelyard.vision.training import EpochStats

WAIT_S = 300.0
NEVER_ASKED_EXIT = 99


def _pause(trainer: Trainer, marker: Path) -> None:
    marker.write_text("paused")  # metrics still buffered stay so: a SIGKILL here loses them
    deadline = time.monotonic() + WAIT_S
    while not trainer.run.stop_requested:
        if time.monotonic() > deadline:
            sys.exit(NEVER_ASKED_EXIT)
        time.sleep(0.02)


def _pause_at(kind: str, count: int, marker: Path) -> None:
    log_featurize, log_epoch = Trainer._log_featurize, Trainer._log_epoch

    def featurized(self: Trainer, progress: FeatureProgress) -> Any:
        if kind == "featurized" and progress.done == count:
            _pause(self, marker)
        return log_featurize(self, progress)

    def epoch(self: Trainer, stats: EpochStats) -> Any:
        result = log_epoch(self, stats)
        if kind == "epoch" and stats.epoch == count:
            _pause(self, marker)
        return result

    Trainer._log_featurize = featurized  # type: ignore[method-assign]
    Trainer._log_epoch = epoch  # type: ignore[method-assign]


def main(argv: list[str], job: Callable[[list[str]], int] = image_classification.main) -> int:
    point, marker, arguments = argv[0], Path(argv[1]), argv[2:]
    kind, count = point.split(":")
    _pause_at(kind, int(count), marker)
    return job(arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
