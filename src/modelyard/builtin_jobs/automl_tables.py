"""The AutoML-for-tables job: `python -m modelyard.builtin_jobs.automl_tables --config
config.json` runs `modelyard.tabular.train.AutoMLTrainer` for the job's run.

Killed or preempted, it leaves what it finished: a run of the same job (its next attempt)
searches only the families the earlier attempts did not complete (`tabular/train.py`).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psutil

from modelyard.errors import ModelyardError
from modelyard.runtime.job_error import failed_job
from modelyard.sdk._objects import Run
from modelyard.tabular.config import AutoMLConfig
from modelyard.tabular.train import AutoMLTrainer


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.automl_tables")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        config = AutoMLConfig.from_dict(json.loads(options.config.read_text())).validated()
        run = Run.get_context(allow_offline=False)
        AutoMLTrainer(config, run, run.checkpoint_dir, started=_process_started()).train()
    except ModelyardError as error:
        return failed_job(error.message)
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


def _process_started() -> float:
    """When this process started, on the monotonic clock: the budget counts the interpreter's
    start and the imports too, not only what the trainer does."""
    return time.monotonic() - (time.time() - psutil.Process().create_time())


if __name__ == "__main__":
    sys.exit(main())
