"""Experiment get-or-create and run numbering stay right when many processes submit at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from modelyard.services.workspaces import OpenWorkspace

SUBMITTERS = 8

SUBMIT = textwrap.dedent(
    """
    import sys, time
    from modelyard.services.workspaces import open_workspace
    from pathlib import Path

    ws = open_workspace(Path(sys.argv[1]))
    start = float(sys.argv[2])
    time.sleep(max(0.0, start - time.time()))  # All submitters hit the store together.
    for _ in range(3):
        run = ws.store.create_run("race", user="p")
        print(run.experiment_id, run.number)
    """
)


def test_concurrent_submits_share_one_experiment(workspace: OpenWorkspace) -> None:
    import time

    start = str(time.time() + 2.0)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SUBMIT, str(workspace.root), start],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(SUBMITTERS)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    pairs = [line.split() for out, _ in outputs for line in out.splitlines()]
    assert len({experiment_id for experiment_id, _ in pairs}) == 1
    assert sorted(int(number) for _, number in pairs) == list(range(1, SUBMITTERS * 3 + 1))
    experiments = workspace.store.list_experiments()
    assert [(e.name, e.run_count) for e in experiments] == [("race", SUBMITTERS * 3)]
