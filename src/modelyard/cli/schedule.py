"""`modelyard schedule create -f schedule.yml | list | show | enable | disable | delete |
run-due`: Azure's `az ml schedule`, over services/schedules.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, emit, emit_json, emit_table
from modelyard.entities.schedules import Schedule
from modelyard.services import schedules

app = typer.Typer(
    help="Schedules: fire a job file on a cron, a recurrence, a changed folder or new data.",
    no_args_is_help=True,
)

LIST_COLUMNS = ["name", "trigger", "enabled", "catch_up", "next_fire_at", "last_error"]
FIRE_COLUMNS = ["fire_time", "run_id", "error"]


@app.command()
def create(
    file: Path = typer.Option(..., "--file", "-f", help="schedule YAML (Azure v2 shape)"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Create a schedule; its job file is loaded and checked now, and read again at each fire.
    Behind a server, the job (its code, as `job create -f` sends it) is uploaded now and each
    fire runs that snapshot: create the schedule again to change it."""
    request = schedules.load_schedule_file(file)
    with opened_workspace(workspace) as ws:
        schedule = schedules.create_schedule(ws, request)
    emit(output, _row(schedule), f"schedule {schedule.name}", LIST_COLUMNS)


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    with opened_workspace(workspace) as ws:
        found = schedules.list_schedules(ws)
    emit(output, [_row(schedule) for schedule in found], "schedules", LIST_COLUMNS)


@app.command()
def show(
    name: str,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """The schedule, its catch-up policy, next fire, last error and recent fires with runs."""
    with opened_workspace(workspace) as ws:
        details = schedules.schedule_details(ws, name)
    if output is OutputFormat.JSON:
        emit_json(details.to_dict())
        return
    schedule = details.schedule
    shown = {"job": schedule.describe_job(), **_row(schedule)}
    emit_table(f"schedule {name}", ["key", "value"], list(shown.items()))
    fires = [[getattr(fire, column) for column in FIRE_COLUMNS] for fire in details.fires]
    emit_table("recent fires", FIRE_COLUMNS, fires)


@app.command()
def enable(
    name: str, workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption
) -> None:
    """Fire again from now on (fires missed while disabled are not owed)."""
    _set_enabled(name, True, workspace, output)


@app.command()
def disable(
    name: str, workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption
) -> None:
    _set_enabled(name, False, workspace, output)


def _set_enabled(name: str, enabled: bool, workspace: str | None, output: OutputFormat) -> None:
    with opened_workspace(workspace) as ws:
        schedule = schedules.set_enabled(ws, name, enabled)
    emit(output, _row(schedule), f"schedule {name}", LIST_COLUMNS)


@app.command()
def delete(
    name: str, workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption
) -> None:
    """Delete the schedule and its fire records; the runs it created stay."""
    with opened_workspace(workspace) as ws:
        schedules.delete_schedule(ws, name)
    emit(output, {"deleted": name}, "deleted", ["deleted"])


@app.command("run-due")
def run_due(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """One firing pass, for an embedded workspace (no server): run it from cron or a timer."""
    with opened_workspace(workspace) as ws:
        fired = schedules.fire_due_schedules(ws)
    emit(output, [fire.to_dict() for fire in fired], "fired", ["schedule", *FIRE_COLUMNS])


def _row(schedule: Schedule) -> dict[str, Any]:
    return {**schedule.to_dict(), "trigger": _trigger_text(schedule)}


def _trigger_text(schedule: Schedule) -> str:
    trigger = schedule.trigger.to_dict()
    shown = {key: value for key, value in trigger.items() if value not in (None, [], {})}
    return " ".join(f"{key}={value}" for key, value in shown.items())
