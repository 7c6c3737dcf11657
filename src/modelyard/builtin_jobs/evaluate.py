"""The evaluation job: `python -m modelyard.builtin_jobs.evaluate --config config.json` scores
the config's labeled test data with its model (`modelyard.serving.evaluation`), logs the
metrics of the model's task on its run and writes them to `outputs/metrics.json`.

The scores grow in the run's checkpoint folder (batch scoring's ledger), so a preempted
attempt's next one scores only the files not done yet.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Final

from modelyard.errors import ModelyardError
from modelyard.fileio import write_json_atomic
from modelyard.runtime.job_error import failed_job
from modelyard.sdk._objects import Run
from modelyard.serving.evaluation import EvaluateConfig, evaluate_model

OUTPUTS: Final = Path("outputs")
METRICS_FILE: Final = "metrics.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelyard.builtin_jobs.evaluate")
    parser.add_argument("--config", required=True, type=Path)
    options = parser.parse_args(argv)
    run = Run.get_context()
    try:
        config = EvaluateConfig.from_dict(json.loads(options.config.read_text()))
        report = evaluate_model(config, run.checkpoint_dir / "scores")
    except ModelyardError as error:
        return failed_job(error.message)
    run.log_metrics(report.metrics, step=0)
    run.flush()
    OUTPUTS.mkdir(exist_ok=True)
    write_json_atomic(OUTPUTS / METRICS_FILE, report.to_dict())
    summary = ", ".join(f"{name} {value:.4g}" for name, value in report.metrics.items())
    print(f"{report.task} on {report.sample_count} samples: {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
