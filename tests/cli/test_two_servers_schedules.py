"""Two real `modelyard server` processes on one workspace (its database and artifact folder,
as a team's two servers share them), each with its background loop firing schedules every
0.2 s: every due schedule fires once, never twice, whichever server wins its lease."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli.test_server_command import SERVER, _free_port, _read_until
from modelyard.entities.schedules import Frequency, RecurrenceTrigger
from modelyard.services import jobs
from modelyard.services.schedules import (
    SCHEDULE_TAG,
    JobSchedule,
    create_schedule,
    schedule_details,
)
from modelyard.services.workspaces import OpenWorkspace
from polling import wait_for

SCHEDULES = [f"race-{index}" for index in range(5)]


def _server(workspace: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*SERVER, "-w", str(workspace), "--port", str(_free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MODELYARD_BACKGROUND_INTERVAL_S": "0.2", "COLUMNS": "200"},
        start_new_session=True,
    )
    _read_until(process, "Serving workspace", timeout=120)
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGTERM)  # the group this test started, nothing else
    process.wait(timeout=60)


def test_two_servers_fire_each_due_schedule_once(workspace: OpenWorkspace, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "hello.py").write_text("print('fired')\n")
    (project / "job.yml").write_text("experiment_name: scheduled\ncommand: python hello.py\n")
    now = datetime.now(UTC)
    every_minute = RecurrenceTrigger(frequency=Frequency.MINUTE, start_time=now)
    for name in SCHEDULES:
        # Created "two minutes ago": due when the servers start, owing one catch-up fire.
        create_schedule(
            workspace,
            JobSchedule(name, every_minute, project / "job.yml"),
            now=now - timedelta(minutes=2),
        )

    servers = [_server(workspace.root), _server(workspace.root)]
    try:
        wait_for(lambda: all(schedule_details(workspace, n).fires for n in SCHEDULES), timeout=120)
        # Both loops go on racing for the fires just made: 25 rounds each.
        time.sleep(5)
        fires = {name: schedule_details(workspace, name).fires for name in SCHEDULES}
        runs = workspace.store.list_runs("scheduled")
        for run in runs:  # the servers launch them: left queued, nothing would
            jobs.wait_for_completion(workspace, run.id, timeout_s=180)
    finally:
        for server in servers:
            _stop(server)

    for name, found in fires.items():
        # One fire per due time: the catch-up, and one more if a minute began meanwhile.
        assert 1 <= len(found) <= 2, (name, found)
        assert all(fire.run_id is not None and fire.error is None for fire in found), found
    # Exactly one run per fire: no server created a second for a fire the other made.
    assert sorted(workspace.store.get_run_data(r.id).tags[SCHEDULE_TAG] for r in runs) == sorted(
        name for name, found in fires.items() for _ in found
    )
