"""Fault injection for the disk: a workspace on a tiny file system this test mounts, filled up,
then remounted read-only. Every command answers one line that says what to do; nothing is
half-written, and freeing the space makes everything work again.

Mounting needs root (CI and the development machines run as root); elsewhere it is skipped,
except under CI=true, where a skip would hide the test.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.commands import modelyard
from modelyard import Experiment, Workspace
from modelyard.errors import StorageError

DISK_MB = 8


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs here: {mounted.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def project(disk: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "train.py").write_text("print('trained')\n")
    modelyard("workspace", "create", "disk-ws", "--path", str(disk / "ws"), cwd=folder)
    return folder


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False
    )
    return filler


def _one_line_saying(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def _refusals(project: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    return {
        "job submit": modelyard(
            "job",
            "submit",
            "--experiment",
            "full",
            "--source-dir",
            "src",
            "--script",
            "train.py",
            cwd=project,
            check=False,
        ),
        "token create": modelyard("token", "create", "ci", cwd=project, check=False),
        "server": modelyard("server", "--port", "1", cwd=project, check=False, timeout=60),
    }


def test_a_full_disk_is_one_line_per_command_and_nothing_is_half_written(
    project: Path, disk: Path
) -> None:
    before = modelyard("run", "list", "-o", "json", cwd=project).stdout
    filler = _fill(disk)
    for result in _refusals(project).values():
        _one_line_saying(result, "full")
    assert not list(disk.rglob(".tmp-*")) and not list(disk.rglob("*.partial"))
    filler.unlink()
    assert modelyard("run", "list", "-o", "json", cwd=project).stdout == before
    modelyard("token", "create", "ci", cwd=project)  # space again: it works


def test_sdk_logging_on_a_full_disk_raises_one_storage_error(project: Path, disk: Path) -> None:
    ws = Workspace.get(str(disk / "ws"))
    run = Experiment(ws, "logging").start_logging()
    run.log("loss", 1.0)
    filler = _fill(disk)
    for step in range(5000):
        run.log("curve", float(step), step=step)
    with pytest.raises(StorageError, match="disk is full"):
        run.complete()
    filler.unlink()  # space again: the run ends properly, and nothing logged is lost
    run.complete()
    assert run.get_status() == "Completed"
    assert run.get_metrics()["loss"] == 1.0
    assert len(run.get_metrics()["curve"]) == 5000


def test_a_read_only_workspace_is_one_line_per_command(project: Path, disk: Path) -> None:
    remounted = subprocess.run(
        ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True
    )
    assert remounted.returncode == 0, remounted.stderr
    try:
        for result in _refusals(project).values():
            _one_line_saying(result, "read-only")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
