"""`modelyard schedule create -f` from a client folder connected to a real `modelyard server`
process (auth on), on SQLite and PostgreSQL. The job file and its code live in a folder the
server never sees, deleted once the schedule exists: the job travelled with the schedule, is
stored on the server, and each fire runs a copy of it (a command job and a pipeline). Refused
uploads (over the server's size limit, a job file that is wrong, an archive with an unsafe
name or no schedule in it) are one line and leave nothing behind: no schedule, no stored
archive, nothing staged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from archives import tar_bytes
from cli.commands import modelyard
from cli.test_server_command import SERVER, _free_port, _read_until, _stop
from databases import BACKENDS, module_workspace
from modelyard.entities import Role, RunStatus
from modelyard.entities.schedules import ScheduleFire
from modelyard.services import auth, data, jobs
from modelyard.services.pipelines.pipeline_job import CONFIG_FILE
from modelyard.services.run_files import STD_LOG
from modelyard.services.schedule_jobs import job_blobs
from modelyard.services.schedules import DATA_VERSION_TAG, SCHEDULE_TAG, fire_due_schedules
from modelyard.services.workspaces import OpenWorkspace

NIGHTLY = """\
name: {name}
trigger: {{type: cron, expression: "0 2 * * *", time_zone: Europe/Berlin}}
create_job: {job}
"""
CRON = {"type": "cron", "expression": "0 2 * * *"}
COMMAND_JOB = "experiment_name: scheduled\ncommand: python hello.py --greeting uploaded\n"
HELLO = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--greeting")
print(f"{parser.parse_args().greeting} code v1")
"""
PIPELINE_JOB = """\
type: pipeline
experiment_name: scheduled-pipeline
jobs:
  make:
    command: python make.py --out ${{outputs.out}}
    outputs: {out: {type: uri_folder}}
  use:
    command: python use.py --data ${{inputs.data}}
    inputs: {data: '${{parent.jobs.make.outputs.out}}'}
"""
MAKE = """\
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--out")
out = pathlib.Path(parser.parse_args().out)
out.mkdir(parents=True, exist_ok=True)
(out / "made.txt").write_text("made by the uploaded step")
"""
USE = """\
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--data")
print((pathlib.Path(parser.parse_args().data) / "made.txt").read_text())
"""


@dataclass(frozen=True)
class Server:
    ws: OpenWorkspace  # the server's workspace, as its own machine opens it
    url: str
    client: Path  # a client's folder, connected as the contributor "carl"
    token: str


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[Server]:
    """One server process per backend for the module; each test deletes what it creates."""
    root = tmp_path_factory.mktemp("remote-schedules")
    with module_workspace(request.param, postgres_available, root, "served-ws") as ws:
        auth.ensure_admin(ws)
        auth.create_user(ws, "carl", Role.CONTRIBUTOR)
        token = auth.create_token(ws, "laptop", "carl")[1]
        with _server_process(ws.root) as url:
            yield Server(ws, url, root / "client", token)


@contextmanager
def _server_process(workspace: Path) -> Iterator[str]:
    port = _free_port()
    # A 1 MiB upload limit, so that "too large" is a small file here.
    process = subprocess.Popen(
        [*SERVER, "-w", str(workspace), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MODELYARD_MAX_UPLOAD_MB": "1", "COLUMNS": "200"},
        start_new_session=True,
    )
    try:
        _read_until(process, "Serving workspace", timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture
def server(served: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    """The module's server, with a client folder of this test's, connected as "carl"."""
    shutil.rmtree(served.client, ignore_errors=True)
    served.client.mkdir()
    monkeypatch.setenv("MODELYARD_TOKEN", served.token)
    modelyard("workspace", "connect", served.url, cwd=served.client)
    return served


def _job_folder(client: Path, name: str, job: str, files: dict[str, str]) -> Path:
    """A schedule YAML, its job file and the job's code, in a folder of the client's only."""
    folder = client / name
    folder.mkdir()
    (folder / "job.yml").write_text(job)
    for file, text in files.items():
        (folder / file).write_text(textwrap.dedent(text))
    (folder / "schedule.yml").write_text(NIGHTLY.format(name=name, job="job.yml"))
    return folder


def _fire_and_finish(ws: OpenWorkspace, name: str) -> str:
    """Fire the schedule at its next fire time (a fake clock) and wait for its run."""
    due = ws.schedule_store.get_schedule(name).next_fire_at
    [fire] = [fire for fire in fire_due_schedules(ws, now=due) if fire.schedule == name]
    run_id = _finished(ws, fire)
    assert ws.store.get_run_data(run_id).tags[SCHEDULE_TAG] == name
    return run_id


def _finished(ws: OpenWorkspace, fire: ScheduleFire) -> str:
    """The fire's run, waited for: it completed."""
    assert fire.run_id is not None, fire.error
    final = jobs.wait_for_completion(ws, fire.run_id, timeout_s=240)
    assert final.status is RunStatus.COMPLETED, final.error
    return final.id


def _nothing_left(ws: OpenWorkspace) -> None:
    assert ws.schedule_store.list_schedules() == []
    assert [path for path in job_blobs(ws).root.rglob("*") if not path.is_dir()] == []
    staging = ws.cache_dir / "staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_a_client_schedules_its_own_code_and_each_fire_runs_the_uploaded_copy(
    server: Server,
) -> None:
    ws, client = server.ws, server.client
    folder = _job_folder(client, "nightly", COMMAND_JOB, {"hello.py": HELLO})
    created = modelyard("schedule", "create", "-f", "nightly/schedule.yml", cwd=client)
    assert "nightly" in created.stdout
    shutil.rmtree(folder)  # the server never saw it; from now on, nobody does

    shown = modelyard("schedule", "show", "nightly", cwd=client).stdout
    schedule = ws.schedule_store.get_schedule("nightly")
    assert schedule.created_by == "carl"
    assert f"uploaded job.yml (snapshot {schedule.created_at.isoformat()}" in shown
    assert f"sha256 {schedule.job_sha256})" in shown
    archive = job_blobs(ws).path_of(str(schedule.job_sha256))
    assert archive.is_file() and archive.stat().st_mode & 0o222 == 0  # kept read-only

    # Two fires, each a fresh copy of the one stored job, each running the uploaded code.
    runs = [_fire_and_finish(ws, "nightly") for _ in range(2)]
    for run_id in runs:
        log = ws.local_artifacts.run_root(run_id) / STD_LOG
        assert "uploaded code v1" in log.read_text()
        assert ws.store.get_run(run_id).user == "carl"
    assert len(set(runs)) == 2
    listed = json.loads(modelyard("schedule", "show", "nightly", "-o", "json", cwd=client).stdout)
    assert sorted(fire["run_id"] for fire in listed["fires"]) == sorted(runs)

    # A stored job changed behind the server's back is never run: the fire says why.
    archive.chmod(0o644)
    with open(archive, "ab") as changed:
        changed.write(b"\0" * 512)
    due = ws.schedule_store.get_schedule("nightly").next_fire_at
    [refused] = fire_due_schedules(ws, now=due)
    assert refused.run_id is None
    assert "was changed on disk since its creation" in str(refused.error)

    modelyard("schedule", "delete", "nightly", cwd=client)
    _nothing_left(ws)
    assert all(ws.store.get_run(run_id).status is RunStatus.COMPLETED for run_id in runs)


def test_a_scheduled_pipeline_fires_with_its_steps_uploaded_code(server: Server) -> None:
    ws, client = server.ws, server.client
    files = {"make.py": MAKE, "use.py": USE}
    folder = _job_folder(client, "nightly-pipeline", PIPELINE_JOB, files)
    modelyard("schedule", "create", "-f", "nightly-pipeline/schedule.yml", cwd=client)
    shutil.rmtree(folder)

    parent = _fire_and_finish(ws, "nightly-pipeline")
    steps = ws.store.list_runs(parent_id=parent)
    assert [run.status for run in steps] == [RunStatus.COMPLETED] * 2
    logs = [ws.local_artifacts.run_root(run.id) / STD_LOG for run in steps]
    assert any("made by the uploaded step" in log.read_text() for log in logs if log.exists())
    modelyard("schedule", "delete", "nightly-pipeline", cwd=client)
    _nothing_left(ws)


READ_JOB = """\
experiment_name: scheduled-data
command: python read.py --data ${{inputs.nums}}
inputs: {nums: {type: uri_file, path: azureml:nums@latest}}
"""
READ = """\
import argparse, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--data")
path = pathlib.Path(parser.parse_args().data)
print("READ", (next(path.iterdir()) if path.is_dir() else path).read_text())
"""


READ_PIPELINE = """\
type: pipeline
experiment_name: scheduled-data-pipeline
inputs:
  nums: {type: uri_file, path: 'azureml:nums@latest'}
jobs:
  read:
    command: python read.py --data ${{inputs.nums}}
    inputs: {nums: '${{parent.inputs.nums}}'}
"""


def test_a_data_triggered_schedule_reads_the_new_version_at_each_fire(server: Server) -> None:
    """The uploaded job keeps `@latest` (a command job's and a pipeline's): the server binds
    it at the fire, so the run reads the version that fired it, and records that version."""
    ws, client = server.ws, server.client
    (client / "one.txt").write_text("one")
    modelyard("data", "create", "nums", "--path", "one.txt", cwd=client)
    for name, job in (("on-data", READ_JOB), ("on-data-pipeline", READ_PIPELINE)):
        folder = _job_folder(client, name, job, {"read.py": READ})
        (folder / "schedule.yml").write_text(
            f"name: {name}\ntrigger: {{type: data, asset: nums}}\ncreate_job: job.yml\n"
        )
        modelyard("schedule", "create", "-f", f"{name}/schedule.yml", cwd=client)
        shutil.rmtree(folder)
    (client / "two.txt").write_text("two")
    modelyard("data", "create", "nums", "--path", "two.txt", cwd=client)

    command = _finished(ws, _fired_by_data(ws, "on-data"))
    assert "READ two" in (ws.local_artifacts.run_root(command) / STD_LOG).read_text()
    assert ws.store.get_run_data(command).tags[DATA_VERSION_TAG] == "data:nums:2"
    [read] = data.list_run_inputs(ws, command)
    assert (read.name, read.version) == ("nums", 2)
    pipeline = _finished(ws, _fired_by_data(ws, "on-data-pipeline"))
    config = ws.local_artifacts.run_root(pipeline) / "snapshot" / CONFIG_FILE
    assert "data:nums:2" in config.read_text()  # pinned at the fire: a rerun reads it too
    [step] = ws.store.list_runs(parent_id=pipeline)
    assert "READ two" in (ws.local_artifacts.run_root(step.id) / STD_LOG).read_text()
    for name in ("on-data", "on-data-pipeline"):
        modelyard("schedule", "delete", name, cwd=client)
    _nothing_left(ws)


def _fired_by_data(ws: OpenWorkspace, name: str) -> ScheduleFire:
    """The schedule's one fire: a firing pass here, or the server's own loop (which watches
    data triggers too) moving first; either fires it once, at most 60 s after the data."""
    deadline = time.monotonic() + 60
    while not (fires := ws.schedule_store.list_schedule_fires(name)) or not (
        fires[0].run_id or fires[0].error
    ):
        assert time.monotonic() < deadline, "the data trigger never fired"
        fire_due_schedules(ws)
        time.sleep(0.2)
    [fire] = fires
    return fire


def test_refused_schedules_are_one_line_and_leave_nothing_behind(server: Server) -> None:
    ws, client = server.ws, server.client
    big = _job_folder(client, "big", COMMAND_JOB, {"hello.py": HELLO})
    (big / "weights.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # over the server's 1 MiB
    _job_folder(client, "bad", "experiment_name: scheduled\n", {})
    watching = _job_folder(client, "watching", COMMAND_JOB, {"hello.py": HELLO})
    (watching / "schedule.yml").write_text(
        "name: watching\ntrigger: {type: folder, path: ./data}\ncreate_job: job.yml\n"
    )
    for name, words in (
        ("big", "over the server's limit of 1048576 bytes"),
        ("bad", "needs 'script'"),
        ("watching", "use a data trigger ({type: data, asset: NAME}) instead"),
    ):
        refused = modelyard(
            "schedule", "create", "-f", f"{name}/schedule.yml", cwd=client, check=False
        )
        assert refused.returncode == 1, refused.stdout
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert words in refused.stderr, refused.stderr
        _nothing_left(ws)

    # Archives no client of ours would send: refused whole by the server, before anything.
    headers = {"authorization": f"Bearer {server.token}", "content-type": "application/x-tar"}
    hello = {"snapshot/hello.py": b"print(1)"}
    for archive, words in (
        (_archive({"../escape.py": b"x"}), "escape"),
        (_archive(hello, schedule=None), "no 'schedule' object"),
        # A folder on the server's disk is an admin's to name, never an upload's.
        (_archive(hello, {"type": "folder", "path": "/etc"}), "would watch /etc on the machine"),
        # The YAML's rules (`job_schedule_of`): an unknown field, a value of the wrong type.
        (_archive(hello, extra={"retries": 3}), "has unknown field 'retries'"),
        (_archive(hello, extra={"enabled": "no"}), "'enabled' is 'no', not true or false"),
    ):
        answer = httpx.post(
            f"{server.url}/api/v1/schedules/with-job", content=archive, headers=headers
        )
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["message"]
        _nothing_left(ws)


def _archive(
    members: dict[str, bytes],
    schedule: dict[str, str] | None = CRON,
    extra: dict[str, object] | None = None,
) -> bytes:
    """A job archive with `schedule` as the schedule's trigger (None: no schedule), and
    `extra` fields in the schedule."""
    description: dict[str, object] = {
        "experiment": "scheduled",
        "spec": {"script": "hello.py", "arguments": [], "environment": {"name": "default"}},
    }
    if schedule is not None:
        fields = {"name": "crafted", "trigger": schedule, "create_job": "job.yml"}
        description["schedule"] = {**fields, **(extra or {})}
    return tar_bytes({"job.json": json.dumps(description).encode(), **members})
