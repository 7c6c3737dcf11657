"""The reaper's sweep: what killed processes left on disk goes, once it is old enough; nothing a
live job or a write in progress uses is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from modelyard.entities import RunStatus
from modelyard.services import leftovers, runs
from modelyard.services.workspaces import OpenWorkspace, open_workspace

# Uploads an artifact that never ends: a process killed mid-upload, as `kill -9` does.
HANGING_UPLOAD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from modelyard.services.workspaces import open_workspace

    def chunks():
        yield b"x" * 1_000_000
        print("writing", flush=True)
        time.sleep(600)

    ws = open_workspace(Path(sys.argv[1]))
    ws.artifacts.put_stream(sys.argv[2], "outputs/model.bin", chunks())
    """
)


def _age(path: Path, seconds: float = 7200) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def _old_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left behind")
    return _age(path)


def _killed_upload(ws: OpenWorkspace, run_id: str) -> Path:
    upload = subprocess.Popen(
        [sys.executable, "-c", HANGING_UPLOAD, str(ws.root), run_id],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert upload.stdout is not None and upload.stdout.readline().strip() == "writing"
    upload.kill()
    upload.wait(timeout=30)
    [temp] = (ws.local_artifacts.run_root(run_id) / "outputs").iterdir()
    return temp


def _sweeping(ws: OpenWorkspace, interval_s: float = 0) -> OpenWorkspace:
    return open_workspace(ws.root, flags={"leftover_sweep_interval_s": interval_s})


def test_a_killed_uploads_temp_file_goes_once_it_is_an_hour_old(workspace: OpenWorkspace) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    temp = _killed_upload(workspace, run.id)
    assert temp.name.startswith(".tmp-") and temp.stat().st_size > 0
    sweeping = _sweeping(workspace)
    runs.reap_dead_runs(sweeping)
    assert temp.exists()  # young: it could be an upload in progress
    _age(temp)
    runs.reap_dead_runs(sweeping)
    assert not temp.exists()
    assert workspace.artifacts.list(run.id) == []
    sweeping.close()


def test_the_sweep_covers_caches_and_staging_but_not_users_files(
    workspace: OpenWorkspace,
) -> None:
    cache, artifacts = workspace.cache_dir, workspace.local_artifacts.root
    name = f".tmp-{uuid.uuid4().hex}"
    ours = [
        _old_file(cache / "features" / "key" / name),
        _old_file(cache / "staging" / "upload-1" / "snapshot" / "train.py").parent.parent,
    ]
    _age(ours[1] / "snapshot")
    _age(ours[1])
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    theirs = [
        _old_file(artifacts / run.id / "snapshot" / name),  # the user's code, as it was
        _old_file(leftovers.working_copy(workspace, run.id) / name),  # a live job's folder
        _old_file(cache / "environments" / "abc" / name),  # a venv, its builder's business
    ]
    swept = leftovers.sweep(workspace)
    assert sorted(swept.temp_files) == sorted(ours)
    assert not any(path.exists() for path in ours)
    assert all(path.exists() for path in theirs)


def test_working_copies_of_ended_or_deleted_runs_go_and_live_ones_stay(
    workspace: OpenWorkspace,
) -> None:
    store = workspace.store
    live = store.create_run("e", user="u", status=RunStatus.RUNNING)
    ended = store.create_run("e", user="u", status=RunStatus.RUNNING)
    store.transition_run(ended.id, RunStatus.FAILED, error="its supervisor was killed")
    for run_id in (live.id, ended.id, "deleted-run"):
        (leftovers.working_copy(workspace, run_id) / "outputs").mkdir(parents=True)
    swept = leftovers.sweep(workspace)
    assert sorted(swept.working_copies) == sorted([ended.id, "deleted-run"])
    assert [entry.name for entry in (workspace.cache_dir / "jobs").iterdir()] == [live.id]


def test_the_sweep_runs_at_most_once_per_interval(workspace: OpenWorkspace) -> None:
    rarely = _sweeping(workspace, interval_s=3600)
    assert leftovers.sweep_if_due(rarely) is not None  # never swept: due
    stale = _old_file(workspace.cache_dir / "features" / f".tmp-{uuid.uuid4().hex}")
    runs.reap_dead_runs(rarely)
    assert stale.exists()  # swept a moment ago: a read of runs costs one stat
    _age(workspace.cache_dir / leftovers.SWEEP_MARKER)
    runs.reap_dead_runs(rarely)
    assert not stale.exists()
    rarely.close()


def test_a_cache_that_refuses_writes_never_breaks_a_read_of_runs(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    run = ws.store.create_run("e", user="u")
    shutil.rmtree(ws.cache_dir, ignore_errors=True)
    ws.cache_dir.write_text("a file where the cache folder should be")  # refused even to root
    assert leftovers.sweep_if_due(ws) is None
    assert runs.get_run(ws, run.id).id == run.id
