"""`modelyard run list|show|logs|cancel|resume|artifacts`.

A run is named as a user sees it: its id, the start of its id (as in git) or its display name
(`flowers_1`), resolved by `services.runs.resolve_run` for every command here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import (
    OutputFormat,
    OutputOption,
    console,
    emit_json,
    emit_mapping,
    emit_table,
    errors,
    format_duration,
    format_time,
)
from modelyard.entities import Run, RunStatus
from modelyard.entities.records import RunAttempt
from modelyard.errors import InvalidValue, JobFailed
from modelyard.services import data, jobs, portal_links, runs
from modelyard.services.resume import resume_job
from modelyard.services.runs import RunDetails
from modelyard.services.workspaces import OpenWorkspace
from modelyard.store.artifacts import ArtifactInfo

app = typer.Typer(
    help="Runs: list, inspect, follow, cancel, resume, and their files.", no_args_is_help=True
)
artifacts_app = typer.Typer(help="A run's files: list and download.", no_args_is_help=True)
app.add_typer(artifacts_app, name="artifacts")

COLUMNS = ["id", "experiment", "number", "display_name", "status", "created_at", "ended_at"]
LIST_COLUMNS = ["id", "experiment", "display_name", "status", "created", "duration"]

RunArgument = typer.Argument(
    ...,
    metavar="RUN",
    help=f"run id, its first {runs.MIN_ID_PREFIX}+ characters, or its display name",
    show_default=False,
)
RunExperimentOption = typer.Option(
    None, "--experiment", "-e", help="look the run's display name up in this experiment"
)


@app.command("list")
def list_(
    experiment: str | None = typer.Option(None, "--experiment", "-e", help="only this experiment"),
    status: list[str] | None = typer.Option(None, "--status", help="only runs in these states"),
    limit: int = typer.Option(100, help="at most this many, newest first"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List runs, newest first (ids shortened: any unique start of an id names the run)."""
    with opened_workspace(workspace) as ws:
        found = runs.list_runs(ws, experiment, _statuses(status), limit)
    if output is OutputFormat.JSON:
        emit_json([run.to_dict() for run in found])
        return
    emit_table("Runs", LIST_COLUMNS, [_list_row(run, short) for run, short in _short_ids(found)])


def _list_row(run: Run, short_id: str) -> list[str]:
    duration = format_duration(runs.run_duration_s(run))
    created = format_time(run.created_at)
    return [short_id, run.experiment_name, run.display_name, run.status.value, created, duration]


def _short_ids(found: list[Run]) -> list[tuple[Run, str]]:
    """Each id shortened as git does: SHORT_ID_LENGTH characters, more where two shown ids
    would share that start."""
    ids = [run.id for run in found]
    return [(run, _shortest_unique(run.id, ids)) for run in found]


def _shortest_unique(run_id: str, ids: list[str]) -> str:
    for length in range(runs.SHORT_ID_LENGTH, len(run_id)):
        prefix = run_id[:length]
        if sum(other.startswith(prefix) for other in ids) == 1:
            return prefix
    return run_id


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
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a run: status, duration, source, params, tags, properties, latest metrics and
    artifacts."""
    with opened_workspace(workspace) as ws:
        run_id = runs.resolve_run(ws, run, experiment).id
        details = runs.get_run_details(ws, run_id)
        artifacts = runs.list_artifacts(ws, run_id)
        attempts = runs.list_attempts(ws, run_id)
        inputs = data.list_run_inputs(ws, run_id)
    if output is OutputFormat.JSON:
        emit_json(
            {
                **details.to_dict(),
                "artifacts": [_artifact_dict(a) for a in artifacts],
                "attempts": [attempt.to_dict() for attempt in attempts],
                "inputs": [item.to_dict() for item in inputs],
            }
        )
        return
    print_details(details)
    if inputs:
        emit_mapping(
            "Inputs (data assets read)",
            {i.input_name: f"data:{i.name}:{i.version}" for i in inputs},
        )
    if attempts:
        _print_attempts(attempts)
    if artifacts:
        _print_artifacts(artifacts)


def print_details(details: RunDetails) -> None:
    run = details.run
    summary = {key: value for key, value in run.to_dict().items() if key in COLUMNS}
    for moment in ("created_at", "ended_at"):
        summary[moment] = format_time(summary[moment])
    summary["duration"] = format_duration(details.duration_s)
    summary["error"] = run.error
    if run.status is RunStatus.QUEUED and run.status_detail:
        summary["waiting"] = run.status_detail
    if run.attempt > 1:
        summary["attempt"] = run.attempt
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


def _print_attempts(attempts: list[RunAttempt]) -> None:
    """The attempts that ended without ending the run: preempted, or lost and requeued."""
    rows = [
        [a.attempt, format_time(a.started_at), format_time(a.ended_at), a.outcome.value, a.cause]
        for a in attempts
    ]
    emit_table("Earlier attempts", ["attempt", "started", "ended", "outcome", "cause"], rows)


def _artifact_dict(info: ArtifactInfo) -> dict[str, object]:
    return {"path": info.path, "size": info.size}


def _print_artifacts(artifacts: list[ArtifactInfo]) -> None:
    rows = [[info.path, _size(info.size)] for info in artifacts]
    emit_table("Artifacts", ["path", "size"], rows, whole={"path"})


def _size(size: int) -> str:
    value, unit = float(size), "B"
    for larger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


@artifacts_app.command("list")
def artifacts_list(
    run: str = RunArgument,
    prefix: str = typer.Option("", "--prefix", help="only this folder, like outputs"),
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """List a run's files (Azure ML's run.get_file_names())."""
    with opened_workspace(workspace) as ws:
        run_id = runs.resolve_run(ws, run, experiment).id
        found = runs.list_artifacts(ws, run_id, prefix)
    if output is OutputFormat.JSON:
        emit_json([_artifact_dict(info) for info in found])
    else:
        _print_artifacts(found)


@artifacts_app.command("download")
def artifacts_download(
    run: str = RunArgument,
    path: str = typer.Argument(
        "", metavar="[PATH]", help="a file or folder of the run (default: all of it)"
    ),
    to: Path = typer.Option(Path("."), "--to", help="where to write (a folder, or a file name)"),
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
) -> None:
    """Download a run's file or folder (Azure ML's run.download_file()/download_files())."""
    with opened_workspace(workspace) as ws:
        run_id = runs.resolve_run(ws, run, experiment).id
        written = runs.download_artifacts(ws, run_id, path, to)
    for file in written:
        console.print(str(file), highlight=False)
    if not written:
        console.print(f"Run {run_id} has no artifacts to download.")


@app.command()
def logs(
    run: str = RunArgument,
    follow: bool = typer.Option(False, "--follow", "-f", help="keep printing until the run ends"),
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
) -> None:
    """Print the run's output (stdout and stderr of the script)."""
    with opened_workspace(workspace) as ws:
        stream_logs(ws, runs.resolve_run(ws, run, experiment).id, follow)


def raise_unless_completed(run: Run) -> None:
    """A followed run that ended otherwise is one line: how it ended, why, where the log is."""
    if run.status is RunStatus.COMPLETED:
        return
    reason = (run.error or "").strip().splitlines()
    raise JobFailed(
        f"run {run.id} ended {run.status.value}: "
        + (reason[0] if reason else "no reason recorded")
        + f"; see modelyard run logs {run.id}"
    )


def announce_submitted(ws: OpenWorkspace, run: Run, compute: str) -> None:
    """What Model Builder shows on submit: the run, how to follow it, where to monitor it."""
    console.print(f"Submitted run [bold]{run.id}[/] ({run.display_name}) to {compute}.")
    console.print(f"Follow it with: modelyard run logs {run.id} --follow")
    link = portal_links.portal_link(ws, run.id)
    if link is not None:
        console.print(f"Monitor it in the portal: {link}")
    else:
        console.print(
            f"Monitor it in the portal: start `modelyard server -w {ws.workspace.name}`, then"
            f" open {portal_links.portal_url(portal_links.DEFAULT_LOCAL_URL, run.id)}"
        )


def follow_parent(ws: OpenWorkspace, run: Run, summary: Callable[[str], None]) -> None:
    """A parent run's driver log (a sweep's trials, a pipeline's steps) until it ends, then
    the run and `summary(run_id)` (its leaderboard, its steps); exit 1 unless it completed."""
    final = stream_logs(ws, run.id, follow=True)
    print_details(runs.get_run_details(ws, final.id))
    summary(final.id)
    if final.status is not RunStatus.COMPLETED:
        raise typer.Exit(code=1)


def stream_logs(ws: OpenWorkspace, run_id: str, follow: bool) -> Run:
    """The log to stdout as it grows; while the run waits in its queue, why it waits, to
    stderr, each time the reason changes (so a piped log holds the log only)."""
    last: list[Run] = []

    def tick(run: Run) -> None:
        if run.status is RunStatus.QUEUED and run.status_detail:
            said = last[-1] if last else None
            if said is None or (said.status, said.status_detail) != (run.status, run.status_detail):
                errors.print(f"Queued: {run.status_detail}", highlight=False, markup=False)
        last[:] = [run]

    for chunk in jobs.follow_log(ws, run_id, follow=follow, on_tick=tick):
        sys.stdout.write(chunk)
        sys.stdout.flush()
    return last[-1] if last else ws.store.get_run(run_id)


@app.command()
def cancel(
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
) -> None:
    """Cancel a run: SIGTERM to its process tree, SIGKILL after the grace period."""
    with opened_workspace(workspace) as ws:
        canceled = runs.cancel_run(ws, runs.resolve_run(ws, run, experiment).id)
    console.print(f"Run {canceled.id} is {canceled.status.value}.")


@app.command()
def resume(
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    stream: bool = typer.Option(False, "--stream", help="print the log until the run ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Queue a sweep, an AutoML run or a pipeline whose process was killed (or that was
    canceled) again: it carries on from what its earlier attempts finished (a sweep's trials,
    AutoML's model families, a pipeline's completed steps), running none of them twice."""
    with opened_workspace(workspace) as ws:
        resumed = resume_job(ws, runs.resolve_run(ws, run, experiment).id)
        console.print(f"Resumed run {resumed.id} as attempt {resumed.attempt}.")
        if not stream:
            console.print(f"Follow it with: modelyard run logs {resumed.id} --follow")
            return
        final = stream_logs(ws, resumed.id, follow=True)
        print_details(runs.get_run_details(ws, final.id))
        raise_unless_completed(final)
