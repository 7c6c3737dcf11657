"""Running `modelyard` as a user types it: a real subprocess, wide output, no shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def modelyard(
    *arguments: str, cwd: Path, check: bool = True, timeout: float = 180, columns: int = 200
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "modelyard.cli.main", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": str(columns)},
        stdin=subprocess.DEVNULL,  # a question asked by mistake fails instead of hanging
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def assert_refused_before_any_run(
    project: Path, workspace: Path, base: dict[str, str], changed: list[str], words: str
) -> None:
    """`modelyard automl` with `base`'s flags, `changed` (flag, value pairs) replacing or adding
    to them: refused in one line that says `words`, and no run recorded in `workspace`."""
    from modelyard.services.workspaces import open_workspace

    given = dict(zip(changed[::2], changed[1::2], strict=True))
    flags = [item for key, value in {**base, **given}.items() for item in (key, value)]
    result = modelyard("automl", *flags, cwd=project, check=False)
    said = result.stderr + result.stdout
    assert result.returncode == 1
    assert words in said
    assert len(said.strip().splitlines()) == 1
    ws = open_workspace(workspace)
    try:
        assert ws.store.list_runs() == []
    finally:
        ws.close()
