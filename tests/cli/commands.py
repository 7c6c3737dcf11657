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
