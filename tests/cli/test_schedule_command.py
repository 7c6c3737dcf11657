"""`modelyard schedule …` as a user types it: real subprocesses, a real embedded workspace, and
`schedule run-due` (the embedded workspace's firing pass) creating a real run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cli.commands import home_of_its_own, modelyard


def _new_project(folder: Path) -> Path:
    folder.mkdir()
    modelyard("workspace", "create", "sched-ws", "--path", str(folder.parent / "ws"), cwd=folder)
    (folder / "hello.py").write_text("print('fired')\n")
    (folder / "job.yml").write_text("experiment_name: scheduled\ncommand: python hello.py\n")
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _new_project(tmp_path / "project")


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project for the refusals: each creates nothing (each test checks), so they share it."""
    with home_of_its_own(tmp_path_factory):
        return _new_project(tmp_path_factory.mktemp("refusing") / "project")


def _json(project: Path, *arguments: str) -> Any:
    return json.loads(modelyard(*arguments, "-o", "json", cwd=project).stdout)


def _write(project: Path, name: str, text: str) -> str:
    (project / name).write_text(textwrap.dedent(text))
    return name


def _one_line_error(project: Path, *arguments: str) -> str:
    result = modelyard(*arguments, cwd=project, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_create_list_show_disable_enable_delete(project: Path) -> None:
    cron = _write(
        project,
        "nightly.yml",
        """\
        name: nightly
        trigger: {type: cron, expression: "0 2 * * *", time_zone: Europe/Berlin}
        create_job: ./job.yml
        """,
    )
    recurrence = _write(
        project,
        "daily.yml",
        """\
        name: daily
        trigger:
          {type: recurrence, frequency: day, interval: 1, schedule: {hours: [2], minutes: [0]}}
        create_job: ./job.yml
        catch_up: skip
        """,
    )
    created = _json(project, "schedule", "create", "-f", cron)
    assert created["job_file"] == str(project / "job.yml")
    assert created["next_fire_at"] is not None
    _json(project, "schedule", "create", "-f", recurrence)
    assert [s["name"] for s in _json(project, "schedule", "list")] == ["daily", "nightly"]
    shown = _json(project, "schedule", "show", "daily")
    assert (shown["catch_up"], shown["trigger"]["schedule"]["hours"], shown["fires"]) == (
        "skip",
        [2],
        [],
    )
    table = modelyard("schedule", "show", "nightly", cwd=project).stdout
    assert "expression=0 2 * * *" in table and "recent fires" in table
    assert _json(project, "schedule", "disable", "nightly")["enabled"] is False
    assert _json(project, "schedule", "show", "nightly")["next_fire_at"] is None
    assert _json(project, "schedule", "enable", "nightly")["next_fire_at"] is not None
    assert _json(project, "schedule", "delete", "nightly") == {"deleted": "nightly"}
    assert [s["name"] for s in _json(project, "schedule", "list")] == ["daily"]


def test_run_due_fires_a_changed_folder_once_into_a_tagged_run(project: Path) -> None:
    (project / "data").mkdir()
    (project / "data" / "a.csv").write_text("x\n1\n")
    folder = _write(
        project,
        "on-data.yml",
        """\
        name: on-data
        trigger: {type: folder, path: ./data}
        create_job: ./job.yml
        """,
    )
    _json(project, "schedule", "create", "-f", folder)
    assert _json(project, "schedule", "run-due") == []
    (project / "data" / "a.csv").write_text("x\n2\n")
    [fire] = _json(project, "schedule", "run-due")
    assert fire["schedule"] == "on-data" and fire["run_id"] and fire["error"] is None
    assert _json(project, "schedule", "run-due") == []
    shown = _json(project, "schedule", "show", "on-data")
    assert [f["run_id"] for f in shown["fires"]] == [fire["run_id"]]
    modelyard("run", "logs", fire["run_id"], "--follow", cwd=project)  # until the job ends
    run = _json(project, "run", "show", fire["run_id"])
    assert run["status"] == "Completed"
    assert run["tags"]["modelyard.schedule"] == "on-data"


@pytest.mark.parametrize(
    ("trigger", "job", "words"),
    [
        ('{type: cron, expression: "0 0 30 2 *"}', "./job.yml", "never fires: its day-of-month"),
        ('{type: cron, expression: "0 0 * * * *"}', "./job.yml", "has 6 fields: use 5"),
        (
            '{type: cron, expression: "0 2 * * *", time_zone: Moon/Base}',
            "./job.yml",
            "unknown time zone 'Moon/Base'",
        ),
        (
            '{type: cron, expression: "0 2 * * *", start_time: "2027-02-01T00:00:00",'
            ' end_time: "2027-01-01T00:00:00"}',
            "./job.yml",
            "is not after start_time",
        ),
        ('{type: cron, expression: "0 2 * * *"}', "./nope.yml", "nope.yml"),
        ("{type: folder, path: ./no-such-folder}", "./job.yml", "no-such-folder' not found"),
        ("{type: data, asset: flowers}", "./job.yml", "data asset 'flowers' not found"),
    ],
)
def test_bad_schedules_are_one_line_errors_and_create_nothing(
    refusing: Path, trigger: str, job: str, words: str
) -> None:
    bad = _write(refusing, "bad.yml", f"name: bad\ntrigger: {trigger}\ncreate_job: {job}\n")
    assert words in _one_line_error(refusing, "schedule", "create", "-f", bad)
    assert _json(refusing, "schedule", "list") == []


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("retries: 3", "has unknown field 'retries': use one of"),
        ('enabled: "false"', "'enabled' is 'false', not true or false: fix it"),
        ("catch_up: always", "unknown catch_up 'always'"),
    ],
)
def test_a_schedule_files_fields_are_checked_as_an_uploads_are(
    refusing: Path, extra: str, words: str
) -> None:
    """The YAML's fields go through the rules the server applies to an uploaded schedule's
    (`job_schedule_of`): an unknown field or a value of the wrong type is one line."""
    text = "name: bad\ntrigger: {type: cron, expression: '0 2 * * *'}\ncreate_job: job.yml\n"
    bad = _write(refusing, "bad.yml", text + extra + "\n")
    assert words in _one_line_error(refusing, "schedule", "create", "-f", bad)
    assert _json(refusing, "schedule", "list") == []


def test_a_taken_name_and_an_unknown_schedule_are_refused(project: Path) -> None:
    cron = _write(
        project,
        "nightly.yml",
        'name: nightly\ntrigger: {type: cron, expression: "0 2 * * *"}\ncreate_job: ./job.yml\n',
    )
    _json(project, "schedule", "create", "-f", cron)
    assert "already exists" in _one_line_error(project, "schedule", "create", "-f", cron)
    assert "schedule 'nope' not found" in _one_line_error(project, "schedule", "show", "nope")
