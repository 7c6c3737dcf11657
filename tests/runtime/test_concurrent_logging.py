"""8 processes log 10,000 points each into one run at once: no errors, no point lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from modelyard.entities import RunStatus
from modelyard.runtime.job_env import job_environment
from modelyard.services.workspaces import OpenWorkspace

PROCESSES = 8
POINTS = 10_000

WRITER = textwrap.dedent(
    """
    import sys
    from modelyard import Run

    index = int(sys.argv[1])
    run = Run.get_context(allow_offline=False)
    for step in range({points}):
        run.log(f"p{{index}}", step * 0.5 + index, step=step)
    run.flush()
    print("done", index)
    """
).format(points=POINTS)


def test_eight_writers_lose_nothing(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("concurrent", user="test", status=RunStatus.RUNNING)
    environment = job_environment(workspace.root, run.id)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(index)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(PROCESSES)
    ]
    results = [writer.communicate(timeout=240) for writer in writers]
    for writer, (_out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert "Traceback" not in err
    history = workspace.store.get_metric_history(run.id)
    assert len(history) == PROCESSES * POINTS
    for index in range(PROCESSES):
        series = [m for m in history if m.name == f"p{index}"]
        assert [m.step for m in series] == list(range(POINTS))
        assert [m.value for m in series] == [step * 0.5 + index for step in range(POINTS)]
