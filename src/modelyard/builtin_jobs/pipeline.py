"""A pipeline's driver: `python -m modelyard.builtin_jobs.pipeline --config pipeline.json`, the
job of a pipeline's parent run (`services/pipelines/driver.py` does the work).

It runs beside the workspace (the built-in `local` compute) and reaches it through its folder.
Canceled (SIGTERM), it cancels the steps still queued or running and exits; killed, it leaves
them to the driver that `modelyard run resume` starts. A pipeline whose step failed fails its
run with one line naming the step.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modelyard.builtin_jobs.driver_job import driver_main, say
from modelyard.runtime import preemption
from modelyard.services.pipelines.driver import PipelineDriver, PipelineStopped
from modelyard.services.pipelines.pipeline_file import read_config
from modelyard.services.workspaces import OpenWorkspace


def main(argv: list[str] | None = None) -> int:
    return driver_main(
        argv,
        module="modelyard.builtin_jobs.pipeline",
        noun="pipeline",
        children="steps",
        drive=_drive,
        stopped=PipelineStopped,
    )


def _drive(ws: OpenWorkspace, config_file: Path, run_id: str) -> None:
    snapshot = ws.local_artifacts.run_root(run_id) / "snapshot"
    pipeline, options = read_config(config_file.read_bytes(), snapshot)
    PipelineDriver(
        ws, run_id, pipeline, options, stop_requested=preemption.stop_requested, say=say
    ).run()


if __name__ == "__main__":
    sys.exit(main())
