"""The AutoML-for-images job, paused at a chosen epoch of its candidates until it is asked to
stop (see resume_driver.py, whose pause this is).

    python automl_resume_driver.py epoch:N MARKER JOB_ARGUMENT…
"""

from __future__ import annotations

import sys
from pathlib import Path

from resume_driver import _pause_at

from modelyard.builtin_jobs import automl_images


def main(argv: list[str]) -> int:
    point, marker, arguments = argv[0], Path(argv[1]), argv[2:]
    kind, count = point.split(":")
    _pause_at(kind, int(count), marker)
    return automl_images.main(arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
