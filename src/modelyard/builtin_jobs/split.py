"""The train/test split job: `python -m modelyard.builtin_jobs.split --config config.json`
splits the config's data into `outputs/train` and `outputs/test` (`modelyard.data.split`).

The outputs are written whole or the job fails: a bad input (an empty table, a class too small
to be in both outputs, a folder that is neither a table nor images per label) is one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

from modelyard.data.split import SplitConfig, split_data
from modelyard.errors import ModelyardError
from modelyard.runtime.job_error import failed_job
from modelyard.sdk._objects import Run

OUTPUTS: Final = Path("outputs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.split")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    run = Run.get_context()
    try:
        config = SplitConfig(**json.loads(options.config.read_text()))
        counts = split_data(config, OUTPUTS / "train", OUTPUTS / "test")
    except ModelyardError as error:
        return failed_job(error.message)
    run.log_metrics({"train_count": counts.train, "test_count": counts.test})
    run.flush()
    print(f"split the {counts.kind}: {counts.train} for train, {counts.test} for test", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
