"""A sweep's driver: `python -m modelyard.builtin_jobs.sweep --config sweep.json`, the job of
a sweep's parent run (`services/sweeps/driver.py` does the work).

It runs beside the workspace (the built-in `local` compute) and reaches it through its folder.
Canceled (SIGTERM), it cancels the trials still queued or running and exits; killed, it leaves
them to the driver that `modelyard sweep resume` starts. A sweep that cannot go on (a trial
that never logs the primary metric, no trial completed, a compute gone) fails its run with one
line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from modelyard.builtin_jobs.driver_job import driver_main, say
from modelyard.runtime import preemption
from modelyard.services.sweeps.driver import SweepDriver, SweepStopped
from modelyard.services.sweeps.sweep_job import TRIAL_CODE, read_config
from modelyard.services.workspaces import OpenWorkspace


def main(argv: list[str] | None = None) -> int:
    return driver_main(
        argv,
        module="modelyard.builtin_jobs.sweep",
        noun="sweep",
        children="trials",
        drive=_drive,
        stopped=SweepStopped,
    )


def _drive(ws: OpenWorkspace, config_file: Path, run_id: str) -> None:
    config, environment, files = read_config(config_file.read_bytes())
    snapshot = ws.local_artifacts.run_root(run_id) / "snapshot"
    SweepDriver(
        ws,
        run_id,
        config,
        environment,
        trial_code=snapshot / TRIAL_CODE,
        stop_requested=preemption.stop_requested,
        say=say,
        trial_files=files.under(snapshot),
    ).run()


if __name__ == "__main__":
    sys.exit(main())
