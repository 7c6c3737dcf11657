"""`modelyard run list|show|logs|cancel`."""

from __future__ import annotations

import sys

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit, emit_json, emit_mapping
from modelyard.entities import Run, RunStatus
from modelyard.errors import InvalidValue
from modelyard.services import jobs, portal_links, runs
from modelyard.services.runs import RunDetails
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(help="Runs: list, inspect, follow and cancel.", no_args_is_help=True)

COLUMNS = ["id", "experiment", "number", "display_name", "status", "created_at", "ended_at"]


@app.command("list")
def list_(
    experiment: str | None = typer.Option(None, "--experiment", "-e", help="only this experiment"),
    status: list[str] | None = typer.Option(None, "--status", help="only runs in these states"),
    limit: int = typer.Option(100, help="at most this many, newest first"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List runs, newest first."""
    with opened_workspace(workspace) as ws:
        found = runs.list_runs(ws, experiment, _statuses(status), limit)
    emit(output, [run.to_dict() for run in found], "Runs", COLUMNS)


def _statuses(values: list[str] | None) -> list[RunStatus] | None:
    if not values:
        return None
    by_name = {status.value.lower(): status for status in RunStatus}
    unknown = [value for value in values if value.lower() not in by_name]
    if unknown:
        raise InvalidValue(
            f"unknown run status {unknown[0]!r}: use one of"
            f" {', '.join(s.value for s in RunStatus)}",
            status=unknown[0],
        )
    return [by_name[value.lower()] for value in values]


@app.command()
def show(
    run_id: str, workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption
) -> None:
    """Show a run: status, source, params, tags, properties and latest metrics."""
    with opened_workspace(workspace) as ws:
        details = runs.get_run_details(ws, run_id)
    if output is OutputFormat.JSON:
        emit_json(details.to_dict())
    else:
        print_details(details)


def print_details(details: RunDetails) -> None:
    run = details.run
    summary = {key: value for key, value in run.to_dict().items() if key in COLUMNS}
    summary["error"] = run.error
    summary["script"] = run.source.script
    summary["git_commit"] = run.source.git_commit
    emit_mapping(f"Run {run.id}", summary, sort=False)
    for title, mapping in (
        ("Params", details.data.params),
        ("Tags", details.data.tags),
        ("Properties", details.data.properties),
        ("Metrics (latest)", details.data.latest_metrics),
    ):
        if mapping:
            emit_mapping(title, dict(mapping))


@app.command()
def logs(
    run_id: str,
    follow: bool = typer.Option(False, "--follow", "-f", help="keep printing until the run ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Print the run's output (stdout and stderr of the script)."""
    with opened_workspace(workspace) as ws:
        stream_logs(ws, run_id, follow)


def announce_submitted(ws: OpenWorkspace, run: Run, compute: str) -> None:
    """What Model Builder shows on submit: the run, how to follow it, where to monitor it."""
    console.print(f"Submitted run [bold]{run.id}[/] ({run.display_name}) to {compute}.")
    console.print(f"Follow it with: modelyard run logs {run.id} --follow")
    link = portal_links.portal_link(ws, run.id)
    if link is not None:
        console.print(f"Monitor it in the portal: {link}", soft_wrap=True)
    else:
        console.print(
            f"Monitor it in the portal: start `modelyard server -w {ws.workspace.name}`, then"
            f" open {portal_links.portal_url(portal_links.DEFAULT_LOCAL_URL, run.id)}",
            soft_wrap=True,
        )


def stream_logs(ws: OpenWorkspace, run_id: str, follow: bool) -> Run:
    last: list[Run] = []
    for chunk in jobs.follow_log(ws, run_id, follow=follow, on_tick=last.append):
        sys.stdout.write(chunk)
        sys.stdout.flush()
    return last[-1] if last else ws.store.get_run(run_id)


@app.command()
def cancel(run_id: str, workspace: str | None = WorkspaceOption) -> None:
    """Cancel a run: SIGTERM to its process tree, SIGKILL after the grace period."""
    with opened_workspace(workspace) as ws:
        run = runs.cancel_run(ws, run_id)
    console.print(f"Run {run.id} is {run.status.value}.")
