"""Running `modelyard` as a user types it: a real subprocess, wide output, no shell."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


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


@contextmanager
def home_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A module fixture's own MODELYARD_HOME while it sets a project up: conftest's autouse home
    is one per test and not yet there when a module fixture is made. The project's
    `.modelyard/config.json` names its workspace, so each test's commands find it."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MODELYARD_HOME", str(tmp_path_factory.mktemp("module-home")))
        for name in ("MODELYARD_WORKSPACE", "MODELYARD_RUN_ID", "MODELYARD_WORKSPACE_PATH"):
            env.delenv(name, raising=False)
        yield


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
