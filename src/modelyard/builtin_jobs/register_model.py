"""The model registration job: `python -m modelyard.builtin_jobs.register_model --config
config.json` registers the config's model folder as the next version of its model name, with
this job's run as the version's lineage (the registry service, through the SDK's `Model`), and
tags the run with the version it made (`registered_model`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

from modelyard.errors import ModelyardError
from modelyard.runtime.job_error import failed_job
from modelyard.sdk._model import Model
from modelyard.sdk._objects import Run

REGISTERED_MODEL_TAG: Final = "registered_model"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.register_model")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    try:
        config = json.loads(options.config.read_text())
        run = Run.get_context(allow_offline=False)
        assert isinstance(run, Run)
        model = Model.register(
            run.experiment.workspace,
            config["model"],
            config["model_name"],
            tags=config.get("tags") or None,
            description=config.get("description"),
            run_id=run.id,
        )
    except ModelyardError as error:
        return failed_job(error.message)
    reference = f"{model.name}:{model.version}"
    run.set_tags({REGISTERED_MODEL_TAG: reference})
    print(f"registered model {reference} from {config['model']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
