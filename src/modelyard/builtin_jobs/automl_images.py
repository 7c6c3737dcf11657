"""The AutoML-for-images job: `python -m modelyard.builtin_jobs.automl_images --config
config.json` runs `modelyard.vision.automl.ImageAutoMLTrainer` for the job's run.

Asked to stop (SIGTERM: a preemption), it stops at the next safe point of the candidate it is
training (after an epoch's checkpoint) or between candidates, and exits with
STOPPED_EXIT_CODE; the run's next attempt trains only the candidates not completed yet.
"""

from __future__ import annotations

import json
import sys

from modelyard.builtin_jobs.image_classification import (
    image_job_arguments,
    job_caches,
    run_stoppable,
)
from modelyard.sdk._objects import Run
from modelyard.vision.automl import ImageAutoMLTrainer
from modelyard.vision.automl_config import ImageAutoMLConfig


def main(argv: list[str] | None = None) -> int:
    options = image_job_arguments("modelyard.builtin_jobs.automl_images", argv)

    def work() -> None:
        config = ImageAutoMLConfig.from_dict(json.loads(options.config.read_text()))
        run = Run.get_context(allow_offline=False)
        feature_cache, guardrail_cache = job_caches(options)
        trainer = ImageAutoMLTrainer(
            config, feature_cache, run, guardrail_cache, run.checkpoint_dir
        )
        trainer.train()

    return run_stoppable(work)


if __name__ == "__main__":
    sys.exit(main())
