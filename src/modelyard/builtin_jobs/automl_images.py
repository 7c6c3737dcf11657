"""The AutoML-for-images job: `python -m modelyard.builtin_jobs.automl_images --config
config.json` runs `modelyard.vision.automl.ImageAutoMLTrainer` for the job's run.

Asked to stop (SIGTERM: a preemption), it stops at the next safe point of the candidate it is
training (after an epoch's checkpoint) or between candidates, and exits with
STOPPED_EXIT_CODE; the run's next attempt trains only the candidates not completed yet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from modelyard.builtin_jobs.image_classification import workspace_cache
from modelyard.errors import ModelyardError
from modelyard.runtime.job_error import failed_job
from modelyard.runtime.preemption import STOPPED_EXIT_CODE
from modelyard.sdk._objects import Run
from modelyard.vision.automl import ImageAutoMLTrainer
from modelyard.vision.automl_config import ImageAutoMLConfig
from modelyard.vision.checkpoints import TrainingStopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.automl_images")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--feature-cache", type=Path, default=None)
    parser.add_argument("--guardrail-cache", type=Path, default=None)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        config = ImageAutoMLConfig.from_dict(json.loads(options.config.read_text()))
        run = Run.get_context(allow_offline=False)
        feature_cache = options.feature_cache or workspace_cache("features")
        guardrail_cache = options.guardrail_cache or workspace_cache("guardrails")
        trainer = ImageAutoMLTrainer(
            config, feature_cache, run, guardrail_cache, run.checkpoint_dir
        )
        trainer.train()
    except TrainingStopped as stopped:
        print(f"{stopped} (attempt {run.attempt})", flush=True)
        return STOPPED_EXIT_CODE
    except ModelyardError as error:
        return failed_job(error.message)
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
