"""The image-classification job: `python -m modelyard.builtin_jobs.image_classification
--config config.json` runs `modelyard.vision.train.Trainer` for the job's run.

Asked to stop (SIGTERM: a preemption), the trainer stops at its next safe point with its
checkpoint saved and no outputs written, and the job exits with STOPPED_EXIT_CODE; run again
for the same run (its next attempt), it resumes from there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from modelyard.errors import InvalidValue, ModelyardError
from modelyard.runtime import preemption
from modelyard.runtime.job_env import SERVER_URL_ENV, WORKSPACE_PATH_ENV
from modelyard.runtime.job_error import failed_job
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.sdk._objects import Run
from modelyard.settings import default_home
from modelyard.vision.checkpoints import TrainingStopped
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.train import Trainer


def main(argv: list[str] | None = None) -> int:
    options = image_job_arguments("modelyard.builtin_jobs.image_classification", argv)

    def work() -> None:
        config = ImageClassificationConfig.from_dict(json.loads(options.config.read_text()))
        run = Run.get_context()
        feature_cache, guardrail_cache = job_caches(options)
        Trainer(config, feature_cache, run, guardrail_cache, run.checkpoint_dir).train()

    return run_stoppable(work)


def image_job_arguments(prog: str, argv: list[str] | None) -> argparse.Namespace:
    """The options of a job reading images: its config, and the caches it shares."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--feature-cache", type=Path, default=None)
    parser.add_argument("--guardrail-cache", type=Path, default=None)
    return parser.parse_args(argv)


def job_caches(options: argparse.Namespace) -> tuple[Path, Path]:
    """The feature and guardrail caches: as given, else the workspace's."""
    return (
        options.feature_cache or workspace_cache("features"),
        options.guardrail_cache or workspace_cache("guardrails"),
    )


def run_stoppable(work: Callable[[], None]) -> int:
    """The job's exit code for `work`: 0, STOPPED_EXIT_CODE when it stopped for a preemption
    (TrainingStopped), or a failure whose one-line reason is the run's error."""
    started = time.perf_counter()
    try:
        work()
    except TrainingStopped as stopped:
        print(f"{stopped} (attempt {preemption.attempt()})", flush=True)
        return STOPPED_EXIT_CODE
    except ModelyardError as error:
        return failed_job(error.message)
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


def workspace_cache(name: str) -> Path:
    """A cache folder of the job's workspace (a job sent to a server names none of its own);
    on a machine without the workspace's disk (a Ray node), that machine's own cache in its
    Modelyard home, which later jobs there reuse."""
    workspace = os.environ.get(WORKSPACE_PATH_ENV)
    if not workspace and os.environ.get(SERVER_URL_ENV):
        return default_home() / "cache" / name
    if not workspace:
        raise InvalidValue(
            f"no --{name[:-1]}-cache given and no workspace around this process: pass"
            f" --{name[:-1]}-cache FOLDER, or submit the job to a workspace",
        )
    return Path(workspace) / "cache" / name


def _main_in_this_process() -> int:
    """main(), with the imported modules kept out of the garbage collector's way.

    The process lives for one run and its heap is mostly modules (torch, onnx, for torchvision
    backbones torchvision too): going through them again and again finds nothing to free and
    took about 2 s of a warm ResNet50 run, most of it in the collection at exit. Frozen objects
    are never collected; atexit handlers (the run's metrics) still run.
    """
    gc.freeze()
    try:
        return main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    sys.exit(_main_in_this_process())
